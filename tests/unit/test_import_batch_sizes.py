"""The last two import batches are cut evenly from what is left of the file (whole numbers)."""

from quotadesk.services.usage_import.batches import _toward_the_end


def test_what_is_left_is_cut_in_two_halves():
    # 1,000 lines read from 900 of 1,000 bytes: about 111 lines ahead, between one and two
    # batches of 100: two halves of 56 instead of 100 and 11.
    assert _toward_the_end(100, 10, 1000, (900, 1000)) == 56


def test_a_batch_size_stays_when_more_or_less_is_left():
    assert _toward_the_end(100, 10, 1000, (500, 1000)) == 100  # 1,000 lines ahead
    assert _toward_the_end(100, 10, 1000, (995, 1000)) == 100  # 5 lines ahead: the last one
    assert _toward_the_end(100, 10, 1000, None) == 100  # a stream: size unknown
    assert _toward_the_end(100, 10, 0, (0, 1000)) == 100  # nothing read yet


def test_never_below_the_smallest_batch():
    assert _toward_the_end(100, 80, 1000, (900, 1000)) == 80
