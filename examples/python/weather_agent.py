"""The Python API: one agent with a tool, talking to the embedded offline engine.

    python examples/python/weather_agent.py "What's the weather in Lisbon?"

Shaped like the OpenAI Agents SDK realtime API. With no OPENAI_API_KEY, `runner.run()`
starts the embedded offline engine for the session (one log line says so); with the key
set, the same code talks to gpt-realtime.
"""

from __future__ import annotations

import asyncio
import sys

from agentgraph.realtime import RealtimeAgent, RealtimeRunner, function_tool


@function_tool
def get_weather(city: str) -> str:
    """Look up the current weather.

    Args:
        city: The city to look up.
    """
    return f"It is sunny and 21 degrees in {city}."


async def main(question: str) -> None:
    agent = RealtimeAgent(
        name="Weather assistant",
        instructions="Answer weather questions with get_weather, in one sentence.",
        tools=[get_weather],
    )
    runner = RealtimeRunner(
        starting_agent=agent,
        config={"model_settings": {"model_name": "gpt-realtime", "voice": "marin"}},
    )
    session = await runner.run()
    async with session:
        await session.send_message(question)
        audio_bytes = 0
        async for event in session:
            match event.type:
                case "tool_start":
                    print(f"  -> {event.tool.name}({event.arguments})")
                case "audio_delta":
                    audio_bytes += len(event.audio)
                case "transcript_done":
                    print(f"agent: {event.transcript}  ({audio_bytes / 48:.0f} ms of audio)")
                    break


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "What's the weather in Lisbon?"))
