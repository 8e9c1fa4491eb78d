#!/usr/bin/env python3
"""Prints botocore's SigV4 headers for the known-answer cases of filter/src/signing.rs
(sigv4_matches_botocore_vectors). Run: .venv/bin/python scripts/sigv4_vectors.py"""
import datetime
from unittest import mock
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

def sign(method, url, headers, body, service, region, secs, token=None):
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    t = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=t):
        SigV4Auth(creds, service, region).add_auth(req)
    return dict(req.headers)

T2015 = 1440938160  # 20150830T123600Z
print(sign("GET", "https://example.amazonaws.com/", {}, b"", "service", "us-east-1", T2015))
print(sign("POST", "https://example.amazonaws.com/", {}, b"", "service", "us-east-1", T2015))
print(sign("POST", "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse-stream",
  {"content-type": "application/json"}, b'{"messages":[]}', "bedrock", "us-east-1", 1700000000, "TOKEN"))
print(sign("POST", "https://bedrock-mantle.us-east-1.api.aws/v1/chat/completions",
  {"content-type": "application/json"}, b'{"messages":[]}', "bedrock-mantle", "us-east-1", 1700000000))
