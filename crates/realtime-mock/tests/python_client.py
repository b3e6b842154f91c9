#!/usr/bin/env python3
"""A Realtime API client written from the published protocol, in Python with `websockets`.

Usage: python_client.py WS_BASE_URL

Holds a conversation with `realtime mock --script <the script of published.rs>` in the GA and
the beta dialect: session.update, a text turn, a function-call round, a spoken turn with server
VAD and input transcription, and a cancelled response. Checks the event order of protocol.md §8
as a client sees it. Prints one line per dialect and exits 0 on success; any failure raises.
"""

import base64
import json
import math
import sys

from websockets.sync.client import connect

TIMEOUT = 5.0


class Session:
    def __init__(self, ws, beta):
        self.ws = ws
        self.beta = beta
        self.events = []

    def send(self, event):
        self.ws.send(json.dumps(event))

    def recv(self):
        event = json.loads(self.ws.recv(timeout=TIMEOUT))
        self.events.append(event)
        return event

    def until(self, event_type, limit=10000):
        seen = []
        for _ in range(limit):
            event = self.recv()
            seen.append(event)
            if event["type"] == event_type:
                return seen
        raise AssertionError(f"no {event_type} in {limit} events")

    def name(self, ga_name):
        beta_names = {
            "response.output_text.delta": "response.text.delta",
            "response.output_text.done": "response.text.done",
            "response.output_audio.delta": "response.audio.delta",
            "response.output_audio_transcript.delta": "response.audio_transcript.delta",
            "conversation.item.added": "conversation.item.created",
        }
        return beta_names.get(ga_name, ga_name) if self.beta else ga_name

    def text_response(self):
        key = "modalities" if self.beta else "output_modalities"
        self.send({"type": "response.create", "response": {key: ["text"]}})
        return self.until("response.done")


def user_text(text):
    return {"type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}}


def pcm16(ms, loud):
    samples = []
    for n in range(ms * 24):
        value = int(8000 * math.sin(2 * math.pi * 220 * n / 24000)) if loud else 0
        samples.append(value.to_bytes(2, "little", signed=True))
    return b"".join(samples)


def joined(events, event_type):
    return "".join(e["delta"] for e in events if e["type"] == event_type)


def check_order(events):
    """The invariants of protocol.md §8.1 that a client can see."""
    assert events[0]["type"] == "session.created", events[0]["type"]
    created, done = {}, {}
    for index, event in enumerate(events):
        if event["type"] == "response.created":
            assert event["response"]["id"] not in created
            created[event["response"]["id"]] = index
        if event["type"] == "response.done":
            assert event["response"]["id"] not in done
            done[event["response"]["id"]] = index
        response_id = event.get("response_id")
        if response_id is not None:
            assert created[response_id] < index, event["type"]
            assert response_id not in done, f"{event['type']} after response.done"
    assert created.keys() == done.keys()
    for index, event in enumerate(events):
        if event["type"] != "response.output_item.added":
            continue
        item_id = event["item"]["id"]
        later = [e["type"] for e in events[index + 1:]
                 if e.get("item_id") == item_id or (isinstance(e.get("item"), dict) and e["item"].get("id") == item_id)]
        assert later[0] in ("conversation.item.added", "conversation.item.created"), later
        item_done = later.index("response.output_item.done")
        if "response.content_part.added" in later:
            part_done = later.index("response.content_part.done")
            deltas = [i for i, t in enumerate(later) if t.endswith(".delta")]
            assert all(later.index("response.content_part.added") < i < part_done for i in deltas), later
            assert part_done < item_done, later
        if "conversation.item.done" in later:
            assert item_done < later.index("conversation.item.done"), later


def conversation(url, beta):
    headers = {"OpenAI-Beta": "realtime=v1"} if beta else {}
    with connect(url, additional_headers=headers, open_timeout=TIMEOUT, max_size=None) as ws:
        return talk(Session(ws, beta))


def talk(s):
    beta = s.beta
    s.until("session.created")
    if beta:
        s.until("conversation.created")
    tool = {"type": "function", "name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    vad = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200}
    if beta:
        session = {"tools": [tool], "input_audio_transcription": {"model": "whisper-1"}, "turn_detection": vad}
    else:
        session = {"type": "realtime", "tools": [tool],
                   "audio": {"input": {"transcription": {"model": "whisper-1"}, "turn_detection": vad}}}
    s.send({"type": "session.update", "session": session})
    assert s.until("session.updated")[-1]["session"]["tools"][0]["name"] == "get_weather"

    s.send(user_text("Hello!"))
    events = s.text_response()
    assert joined(events, s.name("response.output_text.delta")) == "Hello! How can I help?"

    s.send(user_text("What is the weather like?"))
    events = s.text_response()
    call = [e for e in events if e["type"] == "response.function_call_arguments.done"][0]
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    s.send({"type": "conversation.item.create", "item": {
        "type": "function_call_output", "call_id": call["call_id"], "output": "{\"celsius\": 21}"}})
    events = s.text_response()
    assert joined(events, s.name("response.output_text.delta")) == "It is 21 degrees in Paris."

    audio = pcm16(600, False) + pcm16(800, True) + pcm16(600, False)
    for start in range(0, len(audio), 4800):
        chunk = base64.b64encode(audio[start:start + 4800]).decode()
        s.send({"type": "input_audio_buffer.append", "audio": chunk})
    turn = []
    while not (any(e["type"] == "response.done" for e in turn)
               and any(e["type"] == "conversation.item.input_audio_transcription.completed" for e in turn)):
        turn.append(s.recv())
        assert len(turn) < 10000
    started = [e for e in turn if e["type"] == "input_audio_buffer.speech_started"][0]
    stopped = [e for e in turn if e["type"] == "input_audio_buffer.speech_stopped"][0]
    assert (started["audio_start_ms"], stopped["audio_end_ms"]) == (300, 1600)
    assert joined(turn, s.name("response.output_audio_transcript.delta")) == "I heard you."
    completed = [e for e in turn if e["type"] == "conversation.item.input_audio_transcription.completed"][0]
    assert completed["transcript"] == "testing the microphone"

    s.send(user_text("Talk for a while."))
    s.send({"type": "response.create", "event_id": "evt_long"})
    s.until(s.name("response.output_audio.delta"))
    s.send({"type": "response.cancel"})
    assert s.until("response.done")[-1]["response"]["status"] == "cancelled"
    s.send({"type": "response.cancel", "event_id": "evt_late"})
    error = s.until("error")[-1]["error"]
    assert (error["code"], error["event_id"]) == ("response_cancel_not_active", "evt_late")

    check_order(s.events)
    return len(s.events)


def main():
    base = sys.argv[1].rstrip("/")
    url = f"{base}/v1/realtime?model=gpt-realtime"
    for beta in (False, True):
        count = conversation(url, beta)
        print(f"{'beta' if beta else 'ga'}: ok, {count} events")


if __name__ == "__main__":
    main()
