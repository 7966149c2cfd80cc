"""Direct SIP: a UAS over UDP with RTP media, one realtime session per call.

Pure layers (`message`, `sdp`, `rtp`, `dtmf`, `jitter`, `protocol`) never touch sockets
or clocks; `server` and `call` are the asyncio shells. Import submodules directly; this
package re-exports only the names applications use.
"""

__all__: list[str] = []
