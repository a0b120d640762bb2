"""The examples in the module's docstrings run and print what they show."""

import doctest

import spikegrad


def test_docstring_examples():
    failures, tried = doctest.testmod(spikegrad, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 8 and failures == 0
