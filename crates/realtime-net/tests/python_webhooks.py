"""Webhook interop with the official `openai` Python SDK, driven by python_webhooks.rs.

Reads a JSON job on stdin and prints one JSON answer on stdout:

- {"verify": {...}}: the SDK checks a delivery signed by realtime-net
  (client.webhooks.verify_signature, then client.webhooks.unwrap);
- {"sign": {...}}: Python signs a delivery with hmac and hashlib (the SDK has no signing helper),
  the SDK checks it, and the signature goes back for realtime-net to verify.
"""

import base64
import hashlib
import hmac
import json
import sys
import time

from openai import InvalidWebhookSignatureError, OpenAI


def sdk_check(client, secret, body, headers):
    try:
        client.webhooks.verify_signature(body, headers, secret=secret)
    except InvalidWebhookSignatureError as error:
        return {"ok": False, "error": str(error)}
    event = client.webhooks.unwrap(body, headers, secret=secret)
    return {"ok": True, "type": event.type, "call_id": getattr(event.data, "call_id", None)}


def main():
    job = json.load(sys.stdin)
    client = OpenAI(api_key="sk-unused", base_url="http://127.0.0.1:9/v1")
    if "verify" in job:
        job = job["verify"]
        print(json.dumps(sdk_check(client, job["secret"], job["body"], job["headers"])))
    else:
        job = job["sign"]
        secret = job["secret"]
        key = base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()
        timestamp = str(int(time.time()))
        signed = f"{job['id']}.{timestamp}.{job['body']}".encode()
        signature = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        headers = {"webhook-id": job["id"], "webhook-timestamp": timestamp, "webhook-signature": signature}
        answer = sdk_check(client, secret, job["body"], headers)
        answer["headers"] = headers
        print(json.dumps(answer))


main()
