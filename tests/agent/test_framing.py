"""RFC 6242 framing, byte by byte, and error-path rendering."""

from __future__ import annotations

import pytest

from agent.netconf.errors import RpcError, json_path_to_xpath
from agent.netconf.framing import EOM, FrameDecoder, FramingError, Oversized, encode_chunked, encode_eom


def drain(d: FrameDecoder) -> list[bytes | Oversized]:
    out = []
    while (m := d.next()) is not None:
        out.append(m)
    return out


def feed_bytewise(d: FrameDecoder, data: bytes) -> list[bytes | Oversized]:
    out = []
    for i in range(len(data)):
        d.feed(data[i:i + 1])
        out += drain(d)
    return out


def test_hello_then_chunked_in_one_read() -> None:
    d = FrameDecoder(4096)
    d.feed(b"<hello/>" + EOM + encode_chunked(b"<rpc/>"))
    assert d.next() == b"<hello/>"
    d.use_chunked()
    assert drain(d) == [b"<rpc/>"]


def test_chunked_split_anywhere() -> None:
    d = FrameDecoder(4096)
    d.use_chunked()
    msgs = [b"a" * 10, b"<rpc>" + b"b" * 3000 + b"</rpc>", b"z"]
    stream = b"".join(encode_chunked(m) for m in msgs)
    assert feed_bytewise(d, stream) == msgs


def test_many_chunks_make_one_message() -> None:
    d = FrameDecoder(4096)
    d.use_chunked()
    d.feed(b"\n#4\n<rpc\n#17\n message-id=\"1\"/>\n##\n")
    assert drain(d) == [b'<rpc message-id="1"/>']


def test_eom_delimiter_split_across_reads() -> None:
    d = FrameDecoder(4096)
    assert feed_bytewise(d, encode_eom(b"<a/>") + encode_eom(b"<b/>")) == [b"<a/>", b"<b/>"]


@pytest.mark.parametrize("chunked", [False, True], ids=["eom", "chunked"])
def test_oversized_messages_are_skipped_not_stored(chunked: bool) -> None:
    limit = 2048
    d = FrameDecoder(limit)
    big = b'<rpc message-id="42">' + b"x" * 100_000 + b"</rpc>"
    if chunked:
        d.use_chunked()
        stream = b"".join(b"\n#%d\n%s" % (len(big[i:i + 500]), big[i:i + 500]) for i in range(0, len(big), 500))
        stream += b"\n##\n" + encode_chunked(b"<ok/>")
    else:
        stream = encode_eom(big) + encode_eom(b"<ok/>")
    out: list[bytes | Oversized] = []
    for i in range(0, len(stream), 333):
        d.feed(stream[i:i + 333])
        out += drain(d)
        assert len(d._buf) + len(d._msg) <= limit + 333 + 16  # bounded buffering
    assert isinstance(out[0], Oversized) and out[0].size == len(big)
    assert out[0].head.startswith(b'<rpc message-id="42">')
    assert out[1:] == [b"<ok/>"]


@pytest.mark.parametrize("garbage", [
    b"<rpc/>", b"\n#0\n", b"\n#012\n", b"\n#-5\n", b"\n#abc\n", b"\n#99999999999\n", b"\n##\n",
    b"\n#" + b"1" * 20,
], ids=["no header", "zero size", "leading zero", "negative", "not digits", "above 2^32", "empty message",
        "endless header"])
def test_malformed_chunk_framing(garbage: bytes) -> None:
    d = FrameDecoder(4096)
    d.use_chunked()
    d.feed(garbage)
    with pytest.raises(FramingError):
        drain(d)


def test_json_path_becomes_prefixed_xpath() -> None:
    xpath, prefixes = json_path_to_xpath("/ransdn-wifi:wifi-node/radio[name='phy0']/vif[name='w0']/vlan")
    assert xpath == ("/ransdn-wifi:wifi-node/ransdn-wifi:radio[ransdn-wifi:name='phy0']"
                     "/ransdn-wifi:vif[ransdn-wifi:name='w0']/ransdn-wifi:vlan")
    assert prefixes == {"ransdn-wifi"}
    xpath, _ = json_path_to_xpath("/ransdn-lte:lte-cell/slice[id='s1']/mme[address='192.0.2.1'][port='36412']"
                                  "/imsi-acl/imsi[.='00101']")
    assert xpath.endswith("[ransdn-lte:address='192.0.2.1'][ransdn-lte:port='36412']"
                          "/ransdn-lte:imsi-acl/ransdn-lte:imsi[.='00101']")
    xpath, _ = json_path_to_xpath("/a:x[k=\"it's\"]/y")
    assert xpath == "/a:x[a:k=\"it's\"]/a:y"


def test_rpc_error_xml_binds_the_path_prefixes() -> None:
    err = RpcError("invalid-value", "bad <value> & more", path="/m:top/leaf").with_info("bad-element", "leaf")
    xml = err.to_xml(lambda m: "urn:m" if m == "m" else None)
    assert '<error-path xmlns:m="urn:m">/m:top/m:leaf</error-path>' in xml
    assert "bad &lt;value&gt; &amp; more" in xml
    assert xml.index("<error-type>") < xml.index("<error-tag>") < xml.index("<error-severity>") \
        < xml.index("<error-path") < xml.index("<error-message") < xml.index("<error-info>")
    with pytest.raises(ValueError):
        RpcError("not-a-tag")
