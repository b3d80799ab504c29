#!/usr/bin/env python3
"""Validates every line of JSONL logs against docs/record.schema.json.

    python3 tests/validate_log.py docs/record.schema.json LOG.jsonl...

Prints one line per log and exits non-zero if any line does not validate.
"""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(schema)
failed = 0
for path in sys.argv[2:]:
    types = {}
    for number, line in enumerate(open(path), 1):
        record = json.loads(line)
        errors = list(validator.iter_errors(record))
        if errors:
            failed += 1
            print(f"{path}:{number}: {errors[0].message}")
        types[record.get("type")] = types.get(record.get("type"), 0) + 1
    print(f"{path}: {sum(types.values())} lines valid against the schema {types}")
sys.exit(1 if failed else 0)
