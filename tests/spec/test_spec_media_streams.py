"""`sip.media_streams`: the graph says who may open a media stream, and its secrets stay secret."""

from __future__ import annotations

from agentgraph.spec import validate_text

GRAPH = """\
version: 1
name: t
agents:
  desk: {instructions: Answer the phone.}
sip:
  media_streams:
"""


def test_token_from_the_environment_is_carried_and_masked() -> None:
    token = "s3cr3t-media-token-0123456789"
    result = validate_text(GRAPH + "    token: ${STREAM_SHARED}\n", env={"STREAM_SHARED": token})
    assert result.findings == ()
    assert result.spec is not None
    sip = result.spec.graph.sip
    assert sip is not None and sip.media_streams is not None
    assert sip.media_streams.token == token
    # the key holds a credential, so the value is redacted whatever the variable is called
    assert token in result.spec.secrets
    assert token not in result.spec.redact(f"stream url ws://127.0.0.1/media?token={token}")


def test_twilio_signature_without_the_signed_url_is_an_error() -> None:
    result = validate_text(
        GRAPH + "    twilio_auth_token: ${TWILIO_AUTH_TOKEN}\n",
        env={"TWILIO_AUTH_TOKEN": "0123456789abcdef"},
    )
    assert [f.code for f in result.findings] == ["AG107"]
    assert "public_url" in result.findings[0].message


def test_a_literal_token_is_flagged_and_a_short_one_refused() -> None:
    literal = validate_text(GRAPH + "    token: abcdefghijklmnopqrstuvwxyz\n", env={})
    assert [f.severity for f in literal.findings] == ["warning"]
    short = validate_text(GRAPH + "    token: abc\n", env={})
    assert any(f.severity == "error" for f in short.findings)


def test_serve_gets_the_auth_the_graph_configures() -> None:
    from agentgraph.compile import compile_graph

    result = validate_text(
        GRAPH
        + "    twilio_auth_token: ${TWILIO_AUTH_TOKEN}\n"
        + "    public_url: wss://agent.example.com/media\n",
        env={"TWILIO_AUTH_TOKEN": "0123456789abcdef"},
    )
    assert result.spec is not None
    compiled = compile_graph(result.spec)
    assert compiled.sip is not None and compiled.sip.media_streams is not None
    assert compiled.sip.media_streams.twilio_auth_token == "0123456789abcdef"
    assert compiled.sip.media_streams.public_url == "wss://agent.example.com/media"
    assert "0123456789abcdef" not in repr(compiled.sip)
