"""Base58 (Bitcoin alphabet), the text form of Solana transaction signatures."""

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# Two digits per division: every order signs a transaction, and big-number division is the cost.
_PAIRS = [high + low for high in _ALPHABET for low in _ALPHABET]


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    pieces = []
    while number:
        number, remainder = divmod(number, 58 * 58)
        pieces.append(_PAIRS[remainder])
    digits = "".join(reversed(pieces)).lstrip("1")  # a leading zero digit of the top pair is not data
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + digits
