"""The control group's assignment and the uplift's interval."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.funnel import uplift
from dialogs.experiment import CONTROL, control_percent, group_of
from dialogs.policy import PolicyError, policy_from_dict


def test_the_control_share_is_close_to_the_policy_and_stable() -> None:
    ids = [f"order-{n}" for n in range(4000)]
    share = sum(group_of(i, Decimal(20)) == CONTROL for i in ids) / len(ids)
    assert 0.18 < share < 0.22
    assert [group_of(i, Decimal(20)) for i in ids[:50]] == [group_of(i, Decimal(20)) for i in ids[:50]]
    assert all(group_of(i, Decimal(0)) != CONTROL for i in ids[:200])
    assert all(group_of(i, Decimal(100)) == CONTROL for i in ids[:200])


def test_control_percent_is_checked_with_the_policy() -> None:
    assert control_percent({}) == 0
    with pytest.raises(PolicyError, match="control_percent"):
        policy_from_dict({"experiment": {"control_percent": 120}})


def test_uplift_interval_narrows_with_more_orders() -> None:
    assert uplift(10, 5, 0, 0) is None
    small, large = uplift(50, 30, 50, 20), uplift(5000, 3000, 5000, 2000)
    assert small is not None and large is not None
    assert small["difference"] == large["difference"] == 0.2
    assert small["ci95"][0] < 0.2 < small["ci95"][1]
    assert large["ci95"][1] - large["ci95"][0] < (small["ci95"][1] - small["ci95"][0]) / 5
