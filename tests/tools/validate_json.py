#!/usr/bin/env python3
"""Validates a JSON document against a JSON Schema, using only the standard
library. It knows the keywords docs/report.schema.json uses: type (one or a
list), enum, required, properties, additionalProperties (false or a schema),
items, minimum, maximum and local $ref (#/$defs/NAME). Any other keyword is
an error, so the schema cannot silently use something unchecked. It also
checks the report's sort orders.

usage: validate_json.py SCHEMA DOCUMENT   (DOCUMENT '-' for stdin)
Exit 0 when valid; 1 with one line per problem otherwise.
"""
import json
import sys

KNOWN = {"$schema", "$id", "title", "description", "type", "enum", "required", "properties",
         "additionalProperties", "items", "minimum", "maximum", "$ref", "$defs"}
TYPES = {"object": dict, "array": list, "string": str, "null": type(None), "boolean": bool}


def type_ok(value, t):
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[t])


def check(schema, value, path, root, errors):
    unknown = set(schema) - KNOWN
    if unknown:
        errors.append(f"schema at {path}: unsupported keywords {sorted(unknown)}")
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), ref
        check(root["$defs"][ref[len("#/$defs/"):]], value, path, root, errors)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(type_ok(value, t) for t in types):
            errors.append(f"{path}: expected {'/'.join(types)}, got {type(value).__name__}")
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not one of {schema['enum']}")
    if "minimum" in schema and isinstance(value, (int, float)) and value < schema["minimum"]:
        errors.append(f"{path}: {value} below {schema['minimum']}")
    if "maximum" in schema and isinstance(value, (int, float)) and value > schema["maximum"]:
        errors.append(f"{path}: {value} above {schema['maximum']}")
    if isinstance(value, dict):
        for k in schema.get("required", []):
            if k not in value:
                errors.append(f"{path}: missing key {k!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                check(props[k], v, f"{path}.{k}", root, errors)
            elif extra is False:
                errors.append(f"{path}: unexpected key {k!r}")
            elif isinstance(extra, dict):
                check(extra, v, f"{path}.{k}", root, errors)
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            check(schema["items"], v, f"{path}[{i}]", root, errors)


def check_order(doc, errors):
    def key_desc(count, name):
        return (-count, name.encode("utf-8", "surrogatepass"))

    def sorted_by(items, key, what):
        keys = [key(x) for x in items]
        if keys != sorted(keys):
            errors.append(f"{what}: not sorted by count, then name")

    sorted_by(doc["speakers"], lambda s: key_desc(s["tokens"], s["name"]), "speakers")
    sorted_by(doc["topics"], lambda s: key_desc(s["hits"], s["name"]), "topics")
    sorted_by(doc["entities"], lambda s: key_desc(s["hits"], s["name"]), "entities")
    sorted_by(doc["terms"], lambda s: key_desc(s["count"], s["term"]), "terms")
    sorted_by(doc["bigrams"], lambda s: (-s["count"],) + tuple(w.encode() for w in s["bigram"].split(" ", 1)), "bigrams")
    paths = [d["path"].encode() for d in doc["documents"]]
    if paths != sorted(paths):
        errors.append("documents: not sorted by path")


def main():
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    src = sys.stdin if sys.argv[2] == "-" else open(sys.argv[2], encoding="utf-8")
    try:
        doc = json.load(src)
    except ValueError as e:
        print(f"{sys.argv[2]}: not valid JSON: {e}")
        return 1
    errors = []
    check(schema, doc, "$", schema, errors)
    if not errors:
        check_order(doc, errors)
    for e in errors[:50]:
        print(f"{sys.argv[2]}: {e}")
    if not errors:
        print(f"{sys.argv[2]}: valid ({len(doc['documents'])} documents, {len(doc['speakers'])} speakers)")
    return 1 if errors else 0


sys.exit(main())
