"""The data contracts: the canonical roll-call schema and its expectation suite.

`roll_call_schema.json` describes the columns (types, which are required, allowed
values); `roll_calls.suite.json` is the Great Expectations suite that enforces them on
every partition before it is used. Both are plain JSON so analysts can read and review
them without Python.
"""

import json
from functools import cache
from importlib.resources import files


@cache
def roll_call_schema() -> dict:
    return json.loads(files(__name__).joinpath("roll_call_schema.json").read_text())


@cache
def roll_call_suite() -> dict:
    return json.loads(files(__name__).joinpath("roll_calls.suite.json").read_text())
