// A Node producer, as the design's own stack would enqueue: BullMQ's Queue, job id = order id.
// Usage: node enqueue.js <redis-url> <queue-name> <order-id>...
const { Queue } = require("bullmq");

async function main() {
  const [url, queueName, ...orderIds] = process.argv.slice(2);
  const { hostname, port } = new URL(url);
  const queue = new Queue(queueName, { connection: { host: hostname, port: Number(port) } });
  for (const orderId of orderIds) {
    await queue.add("order", { orderId }, { jobId: orderId, removeOnComplete: true });
  }
  await queue.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
