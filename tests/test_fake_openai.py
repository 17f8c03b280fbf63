"""The fake OpenAI-compatible server that the real-SDK tests drive: replies, faults, streaming."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from realsdk.fake_openai import (
    ChatRequest,
    Fail,
    FailThen,
    FakeOpenAI,
    Json,
    Reply,
    Text,
    ToolCall,
    ToolCalls,
)


def post(server: FakeOpenAI, body: dict[str, Any]) -> tuple[int, dict[str, Any], Any]:
    request = urllib.request.Request(
        server.base_url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:  # it holds the connection
            return exc.code, dict(exc.headers), json.loads(exc.read())


def script(request: ChatRequest) -> Reply:
    if request.marker == "down":
        return Fail(500)
    if request.marker == "flaky":
        return FailThen(Text("recovered"))
    if request.response_format is not None:
        return Json({"verdict": "ok", "score": 0.9})
    if "lookup" in request.tools and not request.outputs_of("lookup"):
        return ToolCalls(ToolCall("lookup", {"id": 7}), ToolCall("lookup", {"id": 8}))
    return Text(f"{request.system}|{request.outputs_of('lookup')}")


LOOKUP = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


def test_text_tool_calls_and_tool_outputs():
    with FakeOpenAI(script) as server:
        status, _, body = post(
            server,
            {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [LOOKUP]},
        )
        assert status == 200
        message = body["choices"][0]["message"]
        assert body["choices"][0]["finish_reason"] == "tool_calls"
        assert [c["function"]["name"] for c in message["tool_calls"]] == ["lookup", "lookup"]
        assert json.loads(message["tool_calls"][1]["function"]["arguments"]) == {"id": 8}
        follow_up = [
            {"role": "system", "content": "You are billing."},
            {"role": "user", "content": "hi"},
            message,
            {"role": "tool", "tool_call_id": message["tool_calls"][0]["id"], "content": "paid"},
        ]
        status, _, body = post(server, {"model": "m", "messages": follow_up, "tools": [LOOKUP]})
        assert body["choices"][0]["message"]["content"] == "You are billing.|['paid']"
        assert body["usage"]["total_tokens"] >= 2
        assert [r.attempt for r in server.requests] == [1, 1]


def test_structured_output_is_json_text():
    with FakeOpenAI(script) as server:
        _, _, body = post(
            server,
            {
                "model": "m",
                "messages": [{"role": "user", "content": "rate it"}],
                "response_format": {"type": "json_schema", "json_schema": {"name": "x"}},
            },
        )
        assert json.loads(body["choices"][0]["message"]["content"]) == {
            "verdict": "ok",
            "score": 0.9,
        }


def test_fail_once_then_reply_and_fail_always():
    with FakeOpenAI(script) as server:
        flaky = {"model": "m", "messages": [{"role": "user", "content": "[run:flaky] go"}]}
        status, headers, body = post(server, flaky)
        assert status == 500
        assert headers["retry-after-ms"] == "1"
        assert body["error"]["message"] == "injected transient server error"
        status, _, body = post(server, flaky)  # the same body again: a retry
        assert (status, body["choices"][0]["message"]["content"]) == (200, "recovered")
        down = {"model": "m", "messages": [{"role": "user", "content": "x [run:down]"}]}
        assert [post(server, down)[0] for _ in range(3)] == [500, 500, 500]
        assert [r.marker for r in server.requests] == ["flaky", "flaky", "down", "down", "down"]
        assert [r.attempt for r in server.requests] == [1, 2, 1, 2, 3]


def test_a_raising_responder_answers_599_and_no_retry():
    def broken(request: ChatRequest) -> Reply:
        raise KeyError("no script for this run")

    with FakeOpenAI(broken) as server:
        status, headers, body = post(server, {"model": "m", "messages": []})
        assert status == 599
        assert headers["x-should-retry"] == "false"
        assert "KeyError" in body["error"]["message"]


def test_unknown_route_and_bad_body():
    with FakeOpenAI(script) as server:
        request = urllib.request.Request(server.base_url + "/responses", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 404
        caught.value.close()
        request = urllib.request.Request(
            server.base_url + "/chat/completions", data=b"[1", method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 400
        caught.value.close()


def test_not_running_has_no_base_url():
    server = FakeOpenAI(script)
    with pytest.raises(RuntimeError):
        _ = server.base_url


@pytest.mark.realsdk
def test_the_openai_client_retries_and_streams():
    openai = pytest.importorskip("openai")
    with (
        FakeOpenAI(script) as server,
        openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=2) as client,
    ):
        flaky = [{"role": "user", "content": "[run:flaky] go"}]
        answer = client.chat.completions.create(model="m", messages=flaky)
        assert answer.choices[0].message.content == "recovered"
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "[run:down]"}]
            )
        assert [r.attempt for r in server.requests] == [1, 2, 1, 2, 3]
        stream = client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            tools=[LOOKUP],
            stream=True,
            stream_options={"include_usage": True},
        )
        calls: dict[int, list[str]] = {}
        usage = None
        with stream:
            for chunk in stream:
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    for call in choice.delta.tool_calls or []:
                        calls.setdefault(call.index, []).append(call.function.arguments or "")
        assert {i: json.loads("".join(parts)) for i, parts in calls.items()} == {
            0: {"id": 7},
            1: {"id": 8},
        }
        assert usage is not None and usage.total_tokens > 0
