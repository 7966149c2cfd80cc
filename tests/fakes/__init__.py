"""Protocol-faithful fakes for tests: a Realtime websocket server and a chat-completions server.

    from tests.fakes import FakeRealtimeServer, FakeChatServer

Both listen on 127.0.0.1 with an OS-chosen port, speak real websockets / HTTP, record what
clients send and let the test script what the server sends.
"""

from tests.fakes.chat_server import FakeChatServer
from tests.fakes.realtime_server import FakeConnection, FakeRealtimeServer, FakeResponse

__all__ = ["FakeChatServer", "FakeConnection", "FakeRealtimeServer", "FakeResponse"]
