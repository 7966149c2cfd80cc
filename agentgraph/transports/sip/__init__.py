"""Direct SIP: a UAS over UDP with RTP media, one realtime session per call.

Pure layers (`message`, `sdp`, `rtp`, `dtmf`, `jitter`, `transaction`, `protocol`) never
touch sockets or clocks; `media`, `server`, `call` and `sessions` are the asyncio shells.
The names below are re-exported lazily, so importing a pure submodule stays cheap:

    from agentgraph.transports.sip import CallSessions, SipConfig, SipServer
    sessions = CallSessions(agents=..., start_agent="desk", url=engine_url)
    async with SipServer(SipConfig(host="127.0.0.1", port=5060),
                         on_call=sessions.handle_sip_call,
                         prepare=sessions.prepare_sip_call) as server:
        ...
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "CallSessions",
    "SipCall",
    "SipCallTransport",
    "SipConfig",
    "SipServer",
    "SipServerProtocol",
    "auto_approvals",
    "loopback_handler",
]

_WHERE = {
    "CallSessions": "sessions",
    "auto_approvals": "sessions",
    "SipCall": "server",
    "SipServer": "server",
    "loopback_handler": "server",
    "SipCallTransport": "call",
    "SipConfig": "events",
    "SipServerProtocol": "protocol",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'agentgraph.transports.sip' has no attribute {name!r}")
    return getattr(importlib.import_module(f"agentgraph.transports.sip.{module}"), name)
