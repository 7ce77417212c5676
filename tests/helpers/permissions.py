"""Who may do what, written out by hand from the README's table, for the rules to be checked
against."""

from __future__ import annotations

R, C, U, D, A = "read", "create", "update", "delete", "audit"
EXPECTED = {
    "superadmin": {
        "supply": {R, C, U, D, A},
        "feed": {R, C, U, D, A},
        "livestock": {R, C, U, D, A},
    },
    "administrator": {
        "supply": {R, C, U, D, A},
        "feed": {R, C, U, D, A},
        "livestock": {R, C, U, D, A},
    },
    "manager": {"supply": {R, C, U, D, A}, "feed": {R, C, U, D, A}, "livestock": {R, C, U, D, A}},
    "supervisor": {"supply": {R, C, U, A}, "feed": {R, C, U, A}, "livestock": {R, C, U, A}},
    "operator": {"supply": {R, C, U}, "feed": {R, C, U}, "livestock": {R}},
}
