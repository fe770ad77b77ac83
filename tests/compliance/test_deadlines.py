"""The deadline arithmetic of data-subject requests (P42): pure, no database."""

import datetime

import pytest

from compliance import deadlines
from compliance.deadlines import Pause, Standing, due_date, standing, uk_date

D = datetime.date
pytestmark = pytest.mark.obligation("P42")


def test_a_verified_request_is_due_thirty_days_after_the_day_it_was_verified():
    assert due_date(verified_on=D(2026, 3, 2), today=D(2026, 3, 2)) == D(2026, 4, 1)


def test_thirty_days_cross_a_short_february_and_a_year_end_as_calendar_days():
    assert due_date(verified_on=D(2026, 1, 31), today=D(2026, 1, 31)) == D(2026, 3, 2)
    assert due_date(verified_on=D(2028, 1, 31), today=D(2028, 1, 31)) == D(2028, 3, 1)  # a leap year
    assert due_date(verified_on=D(2026, 12, 15), today=D(2026, 12, 15)) == D(2027, 1, 14)


def test_a_closed_pause_for_clarification_adds_its_days_back():
    pauses = [Pause(D(2026, 3, 10), D(2026, 3, 15))]

    assert due_date(verified_on=D(2026, 3, 2), pauses=pauses, today=D(2026, 3, 20)) == D(2026, 4, 6)


def test_an_open_pause_moves_the_due_date_on_each_day_it_stays_open():
    pauses = [Pause(D(2026, 3, 10))]

    assert due_date(verified_on=D(2026, 3, 2), pauses=pauses, today=D(2026, 3, 10)) == D(2026, 4, 1)
    assert due_date(verified_on=D(2026, 3, 2), pauses=pauses, today=D(2026, 3, 13)) == D(2026, 4, 4)


def test_overlapping_pauses_count_each_day_once_and_pauses_before_verification_not_at_all():
    pauses = [Pause(D(2026, 2, 20), D(2026, 3, 4)), Pause(D(2026, 3, 10), D(2026, 3, 14)), Pause(D(2026, 3, 12), D(2026, 3, 16))]

    # 2 days after verification from the first, 6 (10th to 16th) from the two overlapping ones
    assert deadlines.paused_days(pauses, since=D(2026, 3, 2), today=D(2026, 4, 1)) == 8
    assert due_date(verified_on=D(2026, 3, 2), pauses=pauses, today=D(2026, 4, 1)) == D(2026, 4, 9)


def test_an_extension_adds_up_to_sixty_days_and_no_more():
    assert due_date(verified_on=D(2026, 3, 2), extension_days=60, today=D(2026, 3, 2)) == D(2026, 5, 31)
    with pytest.raises(ValueError, match="between 0 and 60 days"):
        due_date(verified_on=D(2026, 3, 2), extension_days=61, today=D(2026, 3, 2))


def test_an_extension_and_a_pause_add_up():
    pauses = [Pause(D(2026, 3, 10), D(2026, 3, 12))]

    assert due_date(verified_on=D(2026, 3, 2), pauses=pauses, extension_days=30, today=D(2026, 4, 1)) == D(2026, 5, 3)


def test_a_pause_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="cannot end"):
        Pause(D(2026, 3, 10), D(2026, 3, 9))


def test_the_uk_day_of_a_late_evening_in_summer_is_already_the_next_day():
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST)
    assert uk_date(datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)) == D(2026, 7, 1)
    # in winter London is on UTC
    assert uk_date(datetime.datetime(2026, 12, 30, 23, 30, tzinfo=datetime.UTC)) == D(2026, 12, 30)


def test_the_clock_change_weekends_are_whole_days_like_any_other():
    spring = uk_date(datetime.datetime(2026, 3, 28, 23, 59, tzinfo=datetime.UTC))  # the night the clocks go forward
    autumn = uk_date(datetime.datetime(2026, 10, 24, 23, 30, tzinfo=datetime.UTC))  # 00:30 BST on the 25th

    assert due_date(verified_on=spring, today=spring) == D(2026, 4, 27)
    assert due_date(verified_on=autumn, today=autumn) == D(2026, 11, 24)


def test_a_naive_datetime_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="aware"):
        uk_date(datetime.datetime(2026, 6, 30, 23, 30))


def test_standing_is_overdue_after_the_due_day_and_due_soon_within_seven_days():
    due = D(2026, 4, 1)

    assert standing(due, today=D(2026, 3, 24)) == Standing.ON_TRACK
    assert standing(due, today=D(2026, 3, 25)) == Standing.DUE_SOON
    assert standing(due, today=D(2026, 4, 1)) == Standing.DUE_SOON
    assert standing(due, today=D(2026, 4, 2)) == Standing.OVERDUE
