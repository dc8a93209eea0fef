"""Release requests from other agencies (policy 462.7, Civil Code 1798.90.55): the rules that refuse a request
at once and the rules of who may decide one. See :mod:`alpr_lib.releases.rules`."""
