"""The OpenAPI 3.0 document of our ORUK API, following the UK profile's own openapi.json.

Parameter schemas say exactly what the views accept (so generated tests can tell a good
request from a bad one); response schemas are kept light: the full shape tests live in
tests/fixtures/oruk/.
"""
from __future__ import annotations

from typing import Any

from flask import current_app

from .mapping import ICAL_DAYS


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _parameters(max_per_page: int) -> dict[str, dict[str, Any]]:
    clock = {"type": "string", "pattern": r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"}
    return {
        "search": _query("search", "Words that must all match, as in the site's search: "
                         "title, description, organisation, categories or place; word endings "
                         "and accents are ignored (knit finds knitting, cafe finds café); "
                         "\"phrases\", OR and NOT work. Closed services are matched too.",
                         {"type": "string", "maxLength": 200}),
        "page": _query("page", "Page number, from 1.",
                       {"type": "integer", "minimum": 1, "maximum": 1000000}),
        "per_page": _query("per_page", "Items per page.",
                           {"type": "integer", "minimum": 1, "maximum": max_per_page}),
        "taxonomy_term_id": _query("taxonomy_term_id", "Services with this taxonomy term "
                                   "(comma-separate several for any of them).",
                                   {"type": "string", "format": "uuid"}),
        "taxonomy_id": _query("taxonomy_id", "Services with any term of this taxonomy.",
                              {"type": "string", "format": "uuid"}),
        "minimum_age": _query("minimum_age", "Services whose minimum age is at least this.",
                              {"type": "number", "minimum": 0, "maximum": 150}),
        "maximum_age": _query("maximum_age", "Services whose maximum age is at most this.",
                              {"type": "number", "minimum": 0, "maximum": 150}),
        "day": _query("day", "Services with a session on this day.",
                      {"type": "string", "enum": list(ICAL_DAYS)}),
        "start_time": _query("start_time", "Sessions starting at or after this local time.",
                             clock),
        "end_time": _query("end_time", "Sessions ending at or before this local time.", clock),
        "modified_after": _query("modified_after", "Only services changed on or after this "
                                 "moment: an ISO 8601 date-time (Z or an offset; none means "
                                 "UTC) or a date.", {"type": "string", "format": "date-time"}),
        "organization_id": _query("organization_id", "Services of this organization (comma-"
                                  "separate several for any of them).",
                                  {"type": "string", "format": "uuid"}),
        "minimal": _query("minimal", "true: each item is only its id and last_modified.",
                          {"type": "boolean"}),
        "full": _query("full", "true: each item is fully nested, as from its own URL.",
                       {"type": "boolean"}),
        "format": _query("format", "json (a page, the default) or ndjson (every result, one "
                         "JSON object a line, no pages).",
                         {"type": "string", "enum": ["json", "ndjson"]}),
        "postcode": _query("postcode", "Measure distance from this UK postcode or outcode; "
                           "results come nearest first, each with its distance in metres, "
                           "and only listings with a public location are included.",
                           {"type": "string", "maxLength": 10}),
        "proximity": _query("proximity", "Only results within this many metres of the postcode.",
                            {"type": "number", "minimum": 1, "maximum": 1000000}),
    }


PAGE = {
    "type": "object",
    "required": ["total_items", "total_pages", "page_number", "size", "first_page",
                 "last_page", "empty", "contents"],
    "properties": {
        "total_items": {"type": "integer"}, "total_pages": {"type": "integer"},
        "page_number": {"type": "integer"}, "size": {"type": "integer"},
        "first_page": {"type": "boolean"}, "last_page": {"type": "boolean"},
        "empty": {"type": "boolean"}, "contents": {"type": "array", "items": {"type": "object"}},
    },
}
ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["status", "message"], "properties": {
        "status": {"type": "integer"}, "message": {"type": "string"}}}},
}
ENTITY = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(summary: str, operation_id: str, params: list[str], schema: dict[str, Any],
               *, not_found: bool = False) -> dict[str, Any]:
    ok = _json(summary, schema)
    if "format" in params:
        ok["content"]["application/x-ndjson"] = {"schema": {"type": "string"}}
    responses = {"200": ok,
                 "400": _json("A parameter could not be read; the message names it.",
                              {"$ref": "#/components/schemas/Error"})}
    if not_found:
        responses["404"] = _json("No such item.", {"$ref": "#/components/schemas/Error"})
    return {"get": {
        "summary": summary, "operationId": operation_id,
        "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in params],
        "responses": responses}}


def _with_id(operation: dict[str, Any], what: str) -> dict[str, Any]:
    operation["parameters"] = [{"in": "path", "name": "id", "required": True,
                                "description": f"The id of the {what}.",
                                "schema": {"type": "string"}}]
    return operation


def openapi_document(server_url: str) -> dict[str, Any]:
    """The document for an API mounted at `server_url`."""
    filters = ["search", "page", "per_page", "taxonomy_term_id", "taxonomy_id", "minimum_age",
               "maximum_age", "day", "start_time", "end_time", "modified_after",
               "organization_id", "postcode", "proximity", "minimal", "full", "format"]
    page = {"$ref": "#/components/schemas/Page"}
    entity = {"$ref": "#/components/schemas/Entity"}
    return {
        "openapi": "3.0.3",
        "info": {"title": f"{current_app.config['SITE_NAME']}: Open Referral UK API",
                 "version": "3.0",
                 "description": "Open Referral UK profile of HSDS 3.0, read-only. Ids are "
                                "stable UUIDs."},
        "servers": [{"url": server_url}],
        "paths": {
            "/": {"get": {"summary": "About this API", "operationId": "getAPIMetaInformation",
                          "responses": {"200": _json("Version, profile and this document.", {
                              "type": "object", "required": ["version", "profile",
                                                             "openapi_url"],
                              "properties": {"version": {"type": "string"},
                                             "profile": {"type": "string"},
                                             "openapi_url": {"type": "string"}}})}}},
            "/services": _operation("Services, one-to-one fields only.",
                                    "getPaginatedListOfServices", filters, page),
            "/services/{id}": _with_id(_operation(
                "A fully nested service.", "getFullyNestedServiceById", [], entity,
                not_found=True), "service"),
            "/service_at_locations": _operation(
                "Services at locations, one-to-one fields only.",
                "getPaginatedListOfServiceAtLocation", filters, page),
            "/service_at_locations/{id}": _with_id(_operation(
                "A fully nested service at a location.", "getServiceAtLocationById", [], entity,
                not_found=True), "service_at_location"),
            "/taxonomies": _operation("Taxonomies.", "getPaginatedListOfTaxonomies",
                                      ["page", "per_page"], page),
            "/taxonomies/{id}": _with_id(_operation(
                "A taxonomy with its terms.", "getTaxonomyById", [], entity, not_found=True),
                "taxonomy"),
            "/taxonomy_terms": _operation("Taxonomy terms.", "getPaginatedListOfTaxonomyTerms",
                                          ["page", "per_page", "taxonomy_id"], page),
            "/taxonomy_terms/{id}": _with_id(_operation(
                "A taxonomy term.", "getTaxonomyTermById", [], entity, not_found=True),
                "taxonomy term"),
        },
        "components": {
            "schemas": {"Page": PAGE, "Error": ERROR, "Entity": ENTITY},
            "parameters": _parameters(int(current_app.config["OPENREFERRAL_MAX_PER_PAGE"])),
        },
    }
