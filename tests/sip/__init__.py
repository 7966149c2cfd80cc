"""Tests of phone calls: SIP, RTP, the OpenAI SIP connector and media streams."""
