"""The card form's model, validated by pydantic in the page (Pyodide) or anywhere else.

The page calls two functions through the generated bindings: :func:`check_card` gives the
form's errors by field, :func:`describe_card` the line shown for a valid card.
"""

from __future__ import annotations

import datetime

import pydantic
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError

#: Card brands by number prefix, with the lengths each brand issues.
_BRANDS: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = (
    ("Visa", ("4",), (13, 16, 19)),
    ("Mastercard", tuple(str(p) for p in (*range(51, 56), *range(2221, 2721))), (16,)),
    ("American Express", ("34", "37"), (15,)),
)


def _brand(number: str) -> tuple[str, tuple[int, ...]]:
    for name, prefixes, lengths in _BRANDS:
        if number.startswith(prefixes):
            return name, lengths
    return "Other", tuple(range(12, 20))


def _luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        digit = int(ch) * (2 if i % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


class Card(BaseModel):
    """A card as the form gives it: spaces and dashes in the number are ignored."""

    model_config = ConfigDict(str_strip_whitespace=True, frozen=True)

    number: str
    expiry: datetime.date

    @field_validator("number")
    @classmethod
    def _check_number(cls, value: str) -> str:
        number = value.replace(" ", "").replace("-", "")
        if not number.isdigit():
            raise PydanticCustomError("card_digits", "Card number is not all digits")
        brand, lengths = _brand(number)
        if len(number) not in lengths:
            allowed = ", ".join(str(n) for n in lengths[:-1]) + f" or {lengths[-1]}" if len(lengths) > 1 \
                else str(lengths[0])
            raise PydanticCustomError("card_length", "Length for a {brand} card must be {allowed}",
                                      {"brand": brand, "allowed": allowed})
        if not _luhn_valid(number):
            raise PydanticCustomError("card_luhn", "Card number is not Luhn valid")
        return number

    @field_validator("expiry")
    @classmethod
    def _check_expiry(cls, value: datetime.date) -> datetime.date:
        if value < datetime.date.today():
            raise PydanticCustomError("card_expired", "The card expired on {date}", {"date": value.isoformat()})
        return value

    @property
    def brand(self) -> str:
        return _brand(self.number)[0]


def check_card(number: str, expiry: str) -> dict[str, str]:
    """The form's errors: pydantic's message for each invalid field, empty when the card is valid."""
    try:
        Card(number=number, expiry=expiry)  # type: ignore[arg-type]  # pydantic parses the date string
    except ValidationError as exc:
        return {str(err["loc"][0]): err["msg"] for err in exc.errors()}
    return {}


def describe_card(number: str, expiry: str) -> str:
    """One line for a valid card ("Visa card ending in 4242, valid until 2031-12-31"); a
    :class:`pydantic.ValidationError` for an invalid one."""
    card = Card(number=number, expiry=expiry)  # type: ignore[arg-type]
    return f"{card.brand} card ending in {card.number[-4:]}, valid until {card.expiry.isoformat()}"


def pydantic_version() -> str:
    """The version of pydantic the model runs with."""
    return pydantic.VERSION
