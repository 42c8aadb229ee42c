"""Kubernetes quantities (``"500m"``, ``"12Gi"``, ``6``) as numbers: what
``resources.limits``/``requests`` and ``emptyDir.sizeLimit`` hold. Used by
validation (:mod:`sedna.control.podspec`) and re-exported by
:mod:`sedna.control.resources`."""

from __future__ import annotations

import math
import re
from decimal import Decimal

_QUANTITY = re.compile(r"^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$")
_SUFFIX = {
    None: Decimal(1), "m": Decimal("0.001"),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40, "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
}
_MAX_BYTES = 2 ** 63 - 1
_MAX_CORES = Decimal(10) ** 9


def quantity(q) -> tuple[Decimal, str | None]:
    """A Kubernetes quantity as a Decimal and its suffix; ValueError if malformed."""
    if isinstance(q, bool) or not isinstance(q, (int, float, str)):
        raise ValueError(f"invalid quantity {q!r}: must be a number or a string such as '500m' or '12Gi'")
    if isinstance(q, float):
        if not math.isfinite(q):
            raise ValueError(f"invalid quantity {q!r}: must be finite")
        value = Decimal(repr(q))
        suffix = None
    elif isinstance(q, int):
        value, suffix = Decimal(q), None
    else:
        m = _QUANTITY.match(q)
        if not m:
            raise ValueError(f"invalid quantity {q!r}: expected a number with an optional suffix "
                             f"(m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei), e.g. '500m', '1.5', '12Gi'")
        sign, digits, suffix, exp = m.groups()
        value = Decimal(digits)
        if exp is not None:
            if abs(int(exp)) > 30:
                raise ValueError(f"invalid quantity {q!r}: exponent out of range")
            value = value.scaleb(int(exp))
        value *= _SUFFIX[suffix]
        if sign == "-":
            value = -value
    if value < 0:
        raise ValueError(f"invalid quantity {q!r}: must not be negative")
    return value, suffix


def parse_cpu(q) -> float:
    """CPU quantity -> cores: ``6`` -> 6.0, ``"500m"`` -> 0.5, ``"1.5"`` -> 1.5."""
    value, _ = quantity(q)
    if value > _MAX_CORES:
        raise ValueError(f"invalid cpu quantity {q!r}: too large")
    return float(value)


def parse_memory(q) -> int:
    """Memory quantity -> bytes (rounded up): ``"12Gi"``, ``"256Mi"``, ``"1G"``, ``1048576``."""
    value, suffix = quantity(q)
    if suffix == "m":
        raise ValueError(f"invalid memory quantity {q!r}: 'm' means milli-bytes; did you mean "
                         f"'{str(q)[:-1]}Mi' or '{str(q)[:-1]}M'?")
    if value > _MAX_BYTES:
        raise ValueError(f"invalid memory quantity {q!r}: too large")
    return int(value.to_integral_value(rounding="ROUND_CEILING"))

