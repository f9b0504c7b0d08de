import sys

from hypothesis import given
from hypothesis import strategies as st

from mplessons import workloads

SEED_POWER_DIGITS = [236125, 294538, 337000, 370393, 397922, 421345, 441729, 459774, 475963, 490642]


def closed_form_cubic_sum(n: int) -> int:
    m = n - 1  # sum over i in 0..m of i, i^2 and i^3
    return m * (m + 1) // 2 + m * (m + 1) * (2 * m + 1) // 6 + (m * (m + 1) // 2) ** 2


def test_cubic_sum_reproduces_the_seed():
    assert workloads.cubic_sum(10_000_000) == 2499999833333358333330000000


@given(st.integers(min_value=1, max_value=3000))
def test_cubic_sum_matches_the_closed_form(n):
    assert workloads.cubic_sum(n) == closed_form_cubic_sum(n)


def test_power_digits_reproduces_the_seed_on_python_311_and_later():
    limit_before = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
    assert [workloads.power_digits(x) for x in range(1, 11)] == SEED_POWER_DIGITS
    if limit_before is not None:  # the student's safety limit is left alone
        assert sys.get_int_max_str_digits() == limit_before


@given(st.integers(min_value=-(10**1200), max_value=10**1200))
def test_digit_count_agrees_with_str(x):
    assert workloads.digit_count(x) == len(str(abs(x)))


def test_digit_count_at_every_power_of_ten_boundary():
    for k in range(1, 1200):
        for x in (10**k - 1, 10**k, 10**k + 1, 2**k - 1, 2**k):
            assert workloads.digit_count(x) == len(str(x)), x


def test_digit_count_is_exact_next_to_huge_powers_of_ten():
    """Where log10 alone cannot tell (a hair below 10**k), the exact fallback must decide."""
    for k in (4301, 50_000, 500_000):
        power = 10**k
        assert [workloads.digit_count(x) for x in (power - 1, power, power + 1, 3 * power)] == [k, k + 1, k + 1, k + 1]


def test_cubic_sum_to_queue_puts_the_result():
    import queue

    q = queue.Queue()
    workloads.cubic_sum_to_queue(q, 100)
    assert q.get_nowait() == closed_form_cubic_sum(100)
