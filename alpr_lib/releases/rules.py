"""Who may receive ALPR data, and who may decide (policy 462.7, Civil Code 1798.90.55, AG bulletin 2023-DLE-06).

Release is only to law-enforcement or prosecutorial agencies for official purposes, on a written request naming
the agency, the requester and the intended purpose, reviewed and approved by the Administration Division
Commander or designee (462.2.1(e)) before it is fulfilled. The Attorney General reads SB 34 as barring sharing
with out-of-state, federal and private entities. Requests from anyone else are refused at once, kept on file,
and (public-records requests included) routed to the Custodian of Records under the Records Maintenance and
Release Policy: this workflow never fulfils them.
"""

from __future__ import annotations

from alpr_lib.errors import ValidationError

__all__ = ["AGENCY_TYPES", "DECIDERS", "RECEIVING_TYPES", "refusal", "require_state"]

AGENCY_TYPES = ("law-enforcement", "prosecutor", "federal", "private", "other")
#: the agency types that may receive ALPR information (in California)
RECEIVING_TYPES = ("law-enforcement", "prosecutor")
#: designations whose holder decides release requests (462.7, 462.2.1(e))
DECIDERS = ("administration_division_commander", "administration_division_commander_designee")

_FEDERAL = ("Civil Code 1798.90.55(b): an ALPR operator may share ALPR information only with a public agency as "
            "defined in Civil Code 1798.90.5, which does not include federal agencies; AG bulletin 2023-DLE-06: "
            "no sharing with federal agencies")
_PRIVATE = ("Civil Code 1798.90.55(b): ALPR information may not be sold, shared or transferred except to a "
            "public agency; AG bulletin 2023-DLE-06: no sharing with private entities")
_OTHER = ("Civil Code 1798.90.55 and policy 462.7: release only to law-enforcement or prosecutorial agencies for "
          "official purposes")
_OUT_OF_STATE = ("Civil Code 1798.90.5(f) and 1798.90.55(b): a 'public agency' is a California agency; AG bulletin "
                 "2023-DLE-06: no sharing with out-of-state agencies")
_ROUTED = ("recorded and routed to the Custodian of Records under the Records Maintenance and Release Policy "
           "(a public-records request is answered there, never by this workflow; policy 462.6: ALPR data is not "
           "open to public review)")


def require_state(state: str) -> str:
    text = state.strip().upper()
    if len(text) != 2 or not text.isalpha() or not text.isascii():
        raise ValidationError(f"state must be a two-letter code such as CA, not {state[:20]!r}")
    return text


def refusal(agency_type: str, state: str) -> tuple[str, str | None] | None:
    """(the legal reason, where it is routed) if a request from this kind of agency must be refused at once."""
    if agency_type == "federal":
        return _FEDERAL, None
    if agency_type == "private":
        return _PRIVATE, _ROUTED
    if agency_type == "other":
        return _OTHER, _ROUTED
    if state != "CA":
        return _OUT_OF_STATE, None
    return None
