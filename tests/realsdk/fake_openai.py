"""A fake OpenAI-compatible model server on 127.0.0.1, for tests that drive real agent SDKs.

It serves `POST /v1/chat/completions` (the OpenAI Agents SDK with
`set_default_openai_api("chat_completions")` or an `OpenAIChatCompletionsModel`, LangChain's
`ChatOpenAI`, the `openai` client itself), plain and streamed (`"stream": true`, server-sent
events), from a stdlib `ThreadingHTTPServer` on an ephemeral port in a daemon thread. Nothing
leaves the machine and every reply is decided by the test:

    def reply(request: ChatRequest) -> Reply:
        if request.marker == "run-7" and request.attempt == 1:
            return Fail(500)                      # the client retries the same request
        if not request.tool_outputs:
            return ToolCalls(ToolCall("lookup_invoice", {"invoice": "A-7"}))
        return Text("Invoice A-7 is paid.")

    with FakeOpenAI(reply) as server:
        client = AsyncOpenAI(base_url=server.base_url, api_key="test")

A responder is any function from the parsed request to a reply. What it sees (`ChatRequest`):
the body, its `messages` and offered `tools`, the `marker` (the first `[run:NAME]` written in any
message, so a test keys its per-run script on a marker it put in the user's message), the
`tool_outputs` already in the conversation (name, call id, content), which `system` prompt is
speaking (each agent has its own, so one responder can play several agents) and `attempt`: how
many times this very body (canonical JSON) has been received, 1 the first time. Since a client
retries a failed request with the same body, `attempt` makes faults deterministic:

- `Text(content)`: an assistant message; `Json(value)` the same with the value as JSON text
  (structured output: the SDK asked with `response_format` and parses the content);
- `ToolCalls(ToolCall(name, arguments), ...)`: one assistant turn calling tools (an Agents SDK
  handoff is a tool call to `transfer_to_<agent>`); call ids are deterministic;
- `Fail(status, message)`: that HTTP error, every time it is answered;
- `FailThen(then, failures=1)`: the error for the first `failures` attempts of the same body,
  then `then` (an HTTP 500 the client's retry takes away).

Error replies carry `retry-after-ms: 1`, which the `openai` client honours, so retries cost
milliseconds, not its exponential back-off. Every request is kept in `server.requests`, in
arrival order, for assertions. The responder runs on the server's threads: one that raises
answers HTTP 599 with the exception's text (so a broken script fails the test loudly instead of
hanging it).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = [
    "ChatRequest",
    "Fail",
    "FailThen",
    "FakeOpenAI",
    "Json",
    "Reply",
    "Responder",
    "Text",
    "ToolCall",
    "ToolCalls",
    "ToolOutput",
]

MARKER = re.compile(r"\[run:([^\]\s]+)\]")


@dataclass(frozen=True)
class Text:
    """An assistant message with this content."""

    content: str


@dataclass(frozen=True)
class Json:
    """An assistant message whose content is `value` as JSON (structured output)."""

    value: Any


@dataclass(frozen=True)
class ToolCall:
    """One function call: the tool's name and its arguments (sent as a JSON string)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolCalls:
    """An assistant turn that calls one or more tools (parallel calls when several)."""

    calls: tuple[ToolCall, ...]

    def __init__(self, *calls: ToolCall) -> None:
        if not calls:
            raise ValueError("ToolCalls needs at least one ToolCall")
        object.__setattr__(self, "calls", calls)


@dataclass(frozen=True)
class Fail:
    """An HTTP error reply, every time."""

    status: int = 500
    message: str = "injected server error"


@dataclass(frozen=True)
class FailThen:
    """HTTP `status` for the first `failures` attempts of the same request body, then `then`."""

    then: Text | Json | ToolCalls
    failures: int = 1
    status: int = 500
    message: str = "injected transient server error"


Reply = Text | Json | ToolCalls | Fail | FailThen


@dataclass(frozen=True)
class ToolOutput:
    """A tool result already in the conversation."""

    name: str
    call_id: str
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """One chat completions request, parsed."""

    body: dict[str, Any]
    attempt: int
    index: int

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages")
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    @property
    def tools(self) -> list[str]:
        """Names of the function tools offered (handoffs included: `transfer_to_<agent>`)."""
        names = []
        for tool in self.body.get("tools") or []:
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                names.append(function["name"])
        return names

    @property
    def response_format(self) -> dict[str, Any] | None:
        value = self.body.get("response_format")
        return value if isinstance(value, dict) else None

    @property
    def system(self) -> str:
        """The first system (or developer) message: which agent is speaking."""
        for message in self.messages:
            if message.get("role") in ("system", "developer"):
                return _text(message.get("content"))
        return ""

    @property
    def user_texts(self) -> list[str]:
        return [_text(m.get("content")) for m in self.messages if m.get("role") == "user"]

    @property
    def last_user_text(self) -> str:
        texts = self.user_texts
        return texts[-1] if texts else ""

    @property
    def marker(self) -> str | None:
        """The first `[run:NAME]` in any message, in order: NAME."""
        for message in self.messages:
            found = MARKER.search(_text(message.get("content")))
            if found:
                return found.group(1)
        return None

    @property
    def tool_outputs(self) -> list[ToolOutput]:
        """Tool results in the conversation, in order, named after the call they answer."""
        names: dict[str, str] = {}
        outputs = []
        for message in self.messages:
            for call in message.get("tool_calls") or []:
                if isinstance(call, dict) and isinstance(call.get("function"), dict):
                    names[str(call.get("id"))] = str(call["function"].get("name"))
            if message.get("role") == "tool":
                call_id = str(message.get("tool_call_id"))
                outputs.append(
                    ToolOutput(names.get(call_id, ""), call_id, _text(message.get("content")))
                )
        return outputs

    def outputs_of(self, tool: str) -> list[str]:
        """The contents of the results of `tool` so far."""
        return [o.content for o in self.tool_outputs if o.name == tool]


Responder = Callable[[ChatRequest], Reply]


def _text(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


class FakeOpenAI:
    """The server; a context manager that starts it on entry and stops it on exit."""

    def __init__(self, responder: Responder, model: str = "fake-model") -> None:
        self.responder = responder
        self.model = model
        self.requests: list[ChatRequest] = []
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The `base_url` for an OpenAI client: `http://127.0.0.1:PORT/v1`."""
        if self._server is None:
            raise RuntimeError("the fake OpenAI server is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits for one poll
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def _register(self, body: dict[str, Any]) -> ChatRequest:
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            attempt = self._seen.get(key, 0) + 1
            self._seen[key] = attempt
            request = ChatRequest(body=body, attempt=attempt, index=len(self.requests))
            self.requests.append(request)
        return request


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle's algorithm and the client's
    # delayed ACK hold every reply back some 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test's output is not the place for an access log."""

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(
                200, {"object": "list", "data": [{"id": self.fake.model, "object": "model"}]}
            )
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
            self._error(404, f"no route {self.path}: this fake serves /v1/chat/completions")
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._error(400, "request body is not JSON")
            return
        if not isinstance(body, dict):
            self._error(400, "request body is not a JSON object")
            return
        request = self.fake._register(body)
        try:
            reply = self.fake.responder(request)
        except Exception as exc:  # a broken script must fail the test, not hang it
            self._error(599, f"responder raised {type(exc).__name__}: {exc}", retry=False)
            return
        if isinstance(reply, FailThen):
            if request.attempt <= reply.failures:
                self._error(reply.status, reply.message)
                return
            reply = reply.then
        if isinstance(reply, Fail):
            self._error(reply.status, reply.message)
            return
        message, finish = _message(reply, request)
        prompt = _tokens(" ".join(_text(m.get("content")) for m in request.messages))
        completion = _tokens(str(message.get("content") or json.dumps(message.get("tool_calls"))))
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        completion_id = f"chatcmpl-fake-{request.index}"
        if request.stream:
            self._stream(completion_id, request, message, finish, usage)
            return
        self._json(
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.model or self.fake.model,
                "choices": [
                    {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
                ],
                "usage": usage,
            },
        )

    def _json(self, status: int, payload: dict[str, Any], retry: bool = True) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status >= 400:
            self.send_header("retry-after-ms", "1")
            self.send_header("x-should-retry", "true" if retry else "false")
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, retry: bool = True) -> None:
        self._json(
            status,
            {"error": {"message": message, "type": "server_error", "code": None, "param": None}},
            retry=retry,
        )

    def _stream(
        self,
        completion_id: str,
        request: ChatRequest,
        message: dict[str, Any],
        finish: str,
        usage: dict[str, int],
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for chunk in _chunks(completion_id, request.model or self.fake.model, message, finish):
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        options = request.body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            last = _chunk(completion_id, request.model or self.fake.model, None, None)
            last["choices"] = []
            last["usage"] = usage
            self.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _message(reply: Text | Json | ToolCalls, request: ChatRequest) -> tuple[dict[str, Any], str]:
    if isinstance(reply, Text):
        return {"role": "assistant", "content": reply.content}, "stop"
    if isinstance(reply, Json):
        return {"role": "assistant", "content": json.dumps(reply.value)}, "stop"
    calls = [
        {
            "id": f"call_{request.index}_{n}",
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
        }
        for n, call in enumerate(reply.calls)
    ]
    return {"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls"


def _chunk(
    completion_id: str, model: str, delta: dict[str, Any] | None, finish: str | None
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
    }


def _chunks(
    completion_id: str, model: str, message: dict[str, Any], finish: str
) -> Iterator[dict[str, Any]]:
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""}, None)
    if message.get("content"):
        yield _chunk(completion_id, model, {"content": message["content"]}, None)
    for n, call in enumerate(message.get("tool_calls") or []):
        yield _chunk(
            completion_id,
            model,
            {
                "tool_calls": [
                    {
                        "index": n,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""},
                    }
                ]
            },
            None,
        )
        yield _chunk(
            completion_id,
            model,
            {
                "tool_calls": [
                    {"index": n, "function": {"arguments": call["function"]["arguments"]}}
                ]
            },
            None,
        )
    yield _chunk(completion_id, model, {}, finish)
