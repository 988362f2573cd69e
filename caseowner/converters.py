"""URL converters. Database ids are 64-bit: a longer number in a URL is a 404, never an
overflow deep inside the database driver."""


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
