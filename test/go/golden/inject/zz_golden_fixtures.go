// This file is compiled INTO package memberlist by test/go/build.sh, in a throwaway copy of
// Debian's golang-github-hashicorp-memberlist-dev source, so that it can call memberlist's
// unexported encoders (encode, makeCompoundMessage, compressPayload, rawSendMsgPacket,
// sendLocalState, rawSendMsgStream, ...) and decoders (decode, readStream, readRemoteState).
// None of memberlist's own code is committed to this repository: only this file.

package memberlist

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"io/ioutil"
	"log"
	"net"
	"reflect"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
)

// GoldenFixture is one named sample of memberlist's wire format.
type GoldenFixture map[string]interface{}

// GoldenFixtures is everything test/go/golden prints, grouped by layer.
type GoldenFixtures struct {
	Messages []GoldenFixture `json:"messages"`
	Variants []GoldenFixture `json:"variants"`
	Compound []GoldenFixture `json:"compound"`
	Lzw      []GoldenFixture `json:"lzw"`
	Packets  []GoldenFixture `json:"packets"`
	Streams  []GoldenFixture `json:"streams"`
}

// goldenJSON turns a decoded Go value into JSON-friendly data: structs become objects keyed
// by Go field name, []byte becomes lowercase hex ("" for nil and empty).
func goldenJSON(v reflect.Value) interface{} {
	switch v.Kind() {
	case reflect.Ptr, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return goldenJSON(v.Elem())
	case reflect.Struct:
		out := map[string]interface{}{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.PkgPath != "" {
				continue
			}
			out[f.Name] = goldenJSON(v.Field(i))
		}
		return out
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return hex.EncodeToString(v.Bytes())
		}
		out := make([]interface{}, v.Len())
		for i := range out {
			out[i] = goldenJSON(v.Index(i))
		}
		return out
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	}
	panic(fmt.Sprintf("goldenJSON: unhandled kind %s", v.Kind()))
}

func mustEncode(t messageType, in interface{}) []byte {
	buf, err := encode(t, in)
	if err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// goldenDecode decodes buf (type byte + body) back with memberlist's own decode().
func goldenDecode(buf []byte, out interface{}) interface{} {
	if err := decode(buf[1:], out); err != nil {
		panic(err)
	}
	return goldenJSON(reflect.ValueOf(out))
}

func encodeWith(h *codec.MsgpackHandle, t messageType, in interface{}) []byte {
	buf := bytes.NewBuffer(nil)
	buf.WriteByte(uint8(t))
	if err := codec.NewEncoder(buf, h).Encode(in); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// goldenConn is an in-memory net.Conn: writes are captured, reads come from a buffer.
type goldenConn struct {
	out bytes.Buffer
	in  io.Reader
}

func (c *goldenConn) Read(b []byte) (int, error)         { return c.in.Read(b) }
func (c *goldenConn) Write(b []byte) (int, error)        { return c.out.Write(b) }
func (c *goldenConn) Close() error                       { return nil }
func (c *goldenConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *goldenConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *goldenConn) SetDeadline(t time.Time) error      { return nil }
func (c *goldenConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *goldenConn) SetWriteDeadline(t time.Time) error { return nil }

// goldenTransport captures what rawSendMsgPacket hands to the transport.
type goldenTransport struct {
	NodeAwareTransport
	sent [][]byte
}

func (t *goldenTransport) WriteToAddress(b []byte, a Address) (time.Time, error) {
	t.sent = append(t.sent, append([]byte(nil), b...))
	return time.Time{}, nil
}

type goldenDelegate struct{ state []byte }

func (d *goldenDelegate) NodeMeta(limit int) []byte                  { return nil }
func (d *goldenDelegate) NotifyMsg([]byte)                           {}
func (d *goldenDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *goldenDelegate) LocalState(join bool) []byte                { return d.state }
func (d *goldenDelegate) MergeRemoteState(buf []byte, join bool)     {}

type goldenSetup struct {
	protocolVersion uint8
	compress        bool
	keys            [][]byte // primary first; none = no encryption
	userState       []byte
	// label, when set, frames output as memberlist >= 0.3 does (label.go, and the label as
	// AES-GCM additional data). Debian's memberlist predates labels, so those few lines of
	// framing are ported below; compression, CRC, encoding and AES-GCM stay memberlist's own.
	label string
}

// goldenLabelHeader is label.go makeLabelHeader: [hasLabelMsg=244][len u8][label].
func goldenLabelHeader(label string) []byte {
	return append([]byte{244, byte(len(label))}, label...)
}

// goldenLabelPacket is memberlist >= 0.3 rawSendMsgPacket: compress if smaller, CRC for
// protocol >= 5 peers, encrypt with the label as additional data, prefix the label header.
func goldenLabelPacket(m *Memberlist, s goldenSetup, peerPMax uint8, msg []byte) []byte {
	if s.compress {
		if b, err := compressPayload(msg); err == nil && b.Len() < len(msg) {
			msg = b.Bytes()
		}
	}
	if peerPMax >= 5 {
		crc := crc32.ChecksumIEEE(msg)
		header := make([]byte, 5, 5+len(msg))
		header[0] = byte(hasCrcMsg)
		binary.BigEndian.PutUint32(header[1:], crc)
		msg = append(header, msg...)
	}
	if len(s.keys) > 0 {
		var buf bytes.Buffer
		if err := encryptPayload(m.encryptionVersion(), s.keys[0], msg, []byte(s.label), &buf); err != nil {
			panic(err)
		}
		msg = buf.Bytes()
	}
	return append(goldenLabelHeader(s.label), msg...)
}

// goldenLabelStream is memberlist >= 0.3 encryptLocalState + AddLabelHeaderToStream: the
// label header, then [encryptMsg][length u32], sealed with that header plus the label as
// additional data.
func goldenLabelStream(vsn encryptionVersion, s goldenSetup, plain []byte) []byte {
	out := goldenLabelHeader(s.label)
	if len(s.keys) == 0 {
		return append(out, plain...)
	}
	var buf bytes.Buffer
	buf.WriteByte(byte(encryptMsg))
	sizeBuf := make([]byte, 4)
	binary.BigEndian.PutUint32(sizeBuf, uint32(encryptedLength(vsn, len(plain))))
	buf.Write(sizeBuf)
	aad := append(append([]byte(nil), buf.Bytes()[:5]...), s.label...)
	if err := encryptPayload(vsn, s.keys[0], plain, aad, &buf); err != nil {
		panic(err)
	}
	return append(out, buf.Bytes()...)
}

func goldenMemberlist(s goldenSetup) (*Memberlist, *goldenTransport) {
	conf := DefaultLANConfig()
	conf.ProtocolVersion = s.protocolVersion
	conf.EnableCompression = s.compress
	conf.GossipVerifyIncoming = true
	conf.GossipVerifyOutgoing = true
	conf.BindPort = 7946
	if len(s.keys) > 0 {
		kr, err := NewKeyring(s.keys[1:], s.keys[0])
		if err != nil {
			panic(err)
		}
		conf.Keyring = kr
	}
	if s.userState != nil {
		conf.Delegate = &goldenDelegate{state: s.userState}
	}
	t := &goldenTransport{}
	m := &Memberlist{
		config:    conf,
		transport: t,
		nodeMap:   map[string]*nodeState{},
		logger:    log.New(ioutil.Discard, "", 0),
	}
	return m, t
}

func goldenNodes() []*nodeState {
	mk := func(name string, ip net.IP, port uint16, meta []byte, inc uint32, st NodeStateType, pmax uint8) *nodeState {
		return &nodeState{
			Node: Node{Name: name, Addr: ip, Port: port, Meta: meta,
				PMin: 1, PMax: pmax, PCur: 2, DMin: 0, DMax: 1, DCur: 1},
			Incarnation: inc,
			State:       st,
		}
	}
	return []*nodeState{
		mk("node-a", net.IPv4(10, 0, 0, 1).To4(), 7946, []byte("role=web;zone=eu-west-1a"), 1, StateAlive, 5),
		mk("node-b.example.internal.with-a-long-name", net.ParseIP("fd00::2"), 7947, nil, 70000, StateSuspect, 5),
		mk("node-c", net.IPv4(192, 168, 1, 3).To4(), 65535, bytes.Repeat([]byte{0xab}, 300), 4294967295, StateDead, 4),
		mk("node-d", net.IPv4(127, 0, 0, 1).To4(), 8000, []byte{}, 200, StateLeft, 3),
	}
}

// goldenNonce reads the nonce Go drew from crypto/rand out of an encrypted payload
// ([version][nonce 12][ciphertext+tag]) that starts at off.
func goldenNonce(b []byte, off int) string {
	return hex.EncodeToString(b[off+versionSize : off+versionSize+nonceSize])
}

func hexes(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = hex.EncodeToString(b)
	}
	return out
}

// BuildGoldenFixtures produces every fixture. Inputs are fixed; only AES-GCM nonces are random.
func BuildGoldenFixtures() GoldenFixtures {
	var g GoldenFixtures
	key16 := []byte("0123456789abcdef")
	key24 := []byte("0123456789abcdef01234567")
	key32 := []byte("0123456789abcdef0123456789abcdef")
	vsn := []uint8{1, 5, 2, 0, 1, 1}
	longName := string(bytes.Repeat([]byte("n"), 40))
	veryLong := string(bytes.Repeat([]byte("x"), 300))

	addMsg := func(name string, t messageType, in interface{}, out interface{}) []byte {
		b := mustEncode(t, in)
		g.Messages = append(g.Messages, GoldenFixture{
			"name": name, "type": int(t), "hex": hex.EncodeToString(b), "go": goldenDecode(b, out),
		})
		return b
	}

	pingB := addMsg("ping", pingMsg, &ping{SeqNo: 1, Node: "node-b"}, &ping{})
	addMsg("ping-with-source", pingMsg, &ping{SeqNo: 4294967295, Node: "node-b",
		SourceAddr: net.IPv4(10, 0, 0, 1).To4(), SourcePort: 7946, SourceNode: "node-a"}, &ping{})
	addMsg("ping-ipv6-source-long-name", pingMsg, &ping{SeqNo: 128, Node: longName,
		SourceAddr: net.ParseIP("2001:db8::1"), SourcePort: 255, SourceNode: veryLong}, &ping{})
	addMsg("indirect-ping", indirectPingMsg, &indirectPingReq{SeqNo: 256, Target: net.IPv4(10, 0, 0, 3).To4(),
		Port: 7946, Node: "node-c", Nack: true}, &indirectPingReq{})
	addMsg("indirect-ping-with-source", indirectPingMsg, &indirectPingReq{SeqNo: 65536, Target: net.ParseIP("fd00::3"),
		Port: 65535, Node: "node-c", Nack: false, SourceAddr: net.IPv4(10, 0, 0, 1).To4(), SourcePort: 7946,
		SourceNode: "node-a"}, &indirectPingReq{})
	ack := addMsg("ack", ackRespMsg, &ackResp{SeqNo: 1, Payload: nil}, &ackResp{})
	addMsg("ack-with-payload", ackRespMsg, &ackResp{SeqNo: 70000, Payload: bytes.Repeat([]byte{1, 2, 3}, 30)}, &ackResp{})
	addMsg("nack", nackRespMsg, &nackResp{SeqNo: 42}, &nackResp{})
	suspectB := addMsg("suspect", suspectMsg, &suspect{Incarnation: 7, Node: "node-b", From: "node-a"}, &suspect{})
	aliveA := addMsg("alive", aliveMsg, &alive{Incarnation: 1, Node: "node-a", Addr: net.IPv4(10, 0, 0, 1).To4(),
		Port: 7946, Meta: []byte("role=web"), Vsn: vsn}, &alive{})
	addMsg("alive-ipv6-no-meta", aliveMsg, &alive{Incarnation: 300, Node: "node-b", Addr: net.ParseIP("fd00::2"),
		Port: 7947, Meta: nil, Vsn: vsn}, &alive{})
	addMsg("alive-max-meta", aliveMsg, &alive{Incarnation: 4294967295, Node: veryLong, Addr: net.IPv4(192, 168, 1, 3).To4(),
		Port: 65535, Meta: bytes.Repeat([]byte{0xfe}, MetaMaxSize), Vsn: vsn}, &alive{})
	deadC := addMsg("dead", deadMsg, &dead{Incarnation: 9, Node: "node-c", From: "node-a"}, &dead{})
	addMsg("dead-left", deadMsg, &dead{Incarnation: 10, Node: "node-a", From: "node-a"}, &dead{})
	addMsg("err", errMsg, &errResp{Error: "remote error: push/pull refused"}, &errResp{})
	user := []byte{byte(userMsg), 'h', 'e', 'l', 'l', 'o', 0, 0xff}
	g.Messages = append(g.Messages, GoldenFixture{"name": "user", "type": int(userMsg),
		"hex": hex.EncodeToString(user), "go": hex.EncodeToString(user[1:])})

	// Encodings a newer or differently configured go-msgpack peer may send: the decoder must
	// accept them; re-encoding gives memberlist's canonical bytes.
	aliveIn := &alive{Incarnation: 5, Node: "node-with-a-name-longer-than-31-bytes", Addr: net.IPv4(10, 0, 0, 9).To4(),
		Port: 7946, Meta: bytes.Repeat([]byte{7}, 40), Vsn: vsn}
	canonical := mustEncode(aliveMsg, aliveIn)
	for _, v := range []struct {
		name string
		h    *codec.MsgpackHandle
	}{
		{"alive-writeext-str8-bin", &codec.MsgpackHandle{WriteExt: true}},
		{"alive-struct-to-array", &codec.MsgpackHandle{BasicHandle: codec.BasicHandle{EncodeOptions: codec.EncodeOptions{StructToArray: true}}}},
	} {
		b := encodeWith(v.h, aliveMsg, aliveIn)
		g.Variants = append(g.Variants, GoldenFixture{"name": v.name, "type": int(aliveMsg),
			"hex": hex.EncodeToString(b), "canonicalHex": hex.EncodeToString(canonical), "go": goldenDecode(b, &alive{})})
	}

	// Compound messages (util.go makeCompoundMessage).
	addCompound := func(name string, parts [][]byte) []byte {
		b := makeCompoundMessage(parts).Bytes()
		trunc, got, err := decodeCompoundMessage(b[1:])
		if err != nil || trunc != 0 || len(got) != len(parts) {
			panic("compound round trip")
		}
		g.Compound = append(g.Compound, GoldenFixture{"name": name, "parts": hexes(parts), "hex": hex.EncodeToString(b)})
		return b
	}
	compound3 := addCompound("compound-ping-alive-suspect", [][]byte{pingB, aliveA, suspectB})
	addCompound("compound-one", [][]byte{ack})
	var many [][]byte
	for i := 0; i < 20; i++ {
		many = append(many, mustEncode(aliveMsg, &alive{Incarnation: uint32(i), Node: fmt.Sprintf("node-%02d", i),
			Addr: net.IPv4(10, 0, 1, byte(i)).To4(), Port: 7946, Meta: []byte("role=worker"), Vsn: vsn}))
	}
	compoundMany := addCompound("compound-20-alive", many)

	// LZW (util.go compressPayload: compress/lzw, LSB order, litWidth 8).
	addLzw := func(name string, input []byte) {
		b, err := compressPayload(input)
		if err != nil {
			panic(err)
		}
		var c compress
		if err := decode(b.Bytes()[1:], &c); err != nil {
			panic(err)
		}
		back, err := decompressPayload(b.Bytes()[1:])
		if err != nil || !bytes.Equal(back, input) {
			panic("lzw round trip")
		}
		g.Lzw = append(g.Lzw, GoldenFixture{"name": name, "inputHex": hex.EncodeToString(input),
			"bufHex": hex.EncodeToString(c.Buf), "hex": hex.EncodeToString(b.Bytes())})
	}
	addLzw("lzw-compound", compoundMany)
	addLzw("lzw-empty", []byte{})
	addLzw("lzw-one-byte", []byte{0x42})
	addLzw("lzw-repeats", bytes.Repeat([]byte("a"), 5000))
	// Enough distinct codes to pass 4095 and force the writer's mid-stream clear code.
	noise := make([]byte, 24000)
	x := uint32(2463534242)
	for i := range noise {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		noise[i] = "abcdefghijklmnop"[x%16]
	}
	addLzw("lzw-clear-code", noise)

	// Packets through memberlist's own send path (net.go rawSendMsgPacket): compression when
	// it helps, CRC when the peer speaks protocol >= 5, then encryption with the primary key.
	addPacket := func(name string, s goldenSetup, peerPMax uint8, input []byte) {
		m, t := goldenMemberlist(s)
		var out []byte
		off := 0
		if s.label == "" {
			node := &Node{Name: "peer", Addr: net.IPv4(127, 0, 0, 1).To4(), Port: 7946, PMax: peerPMax}
			if err := m.rawSendMsgPacket(Address{Addr: "127.0.0.1:7946", Name: "peer"}, node, input); err != nil {
				panic(err)
			}
			out = t.sent[0]
		} else {
			out = goldenLabelPacket(m, s, peerPMax, input)
			off = 2 + len(s.label)
		}
		f := GoldenFixture{"name": name, "inputHex": hex.EncodeToString(input), "crc": peerPMax >= 5,
			"compress": s.compress, "hex": hex.EncodeToString(out), "keys": hexes(s.keys), "label": s.label}
		if len(s.keys) > 0 {
			f["encryptionVersion"] = int(m.encryptionVersion())
			f["nonceHex"] = goldenNonce(out, off)
			plain, err := decryptPayload(m.config.Keyring.GetKeys(), out[off:], []byte(s.label))
			if err != nil {
				panic(err)
			}
			f["plainHex"] = hex.EncodeToString(plain)
		}
		g.Packets = append(g.Packets, f)
	}
	addPacket("packet-plain-ping", goldenSetup{protocolVersion: 2}, 4, pingB)
	addPacket("packet-crc-ping", goldenSetup{protocolVersion: 2}, 5, pingB)
	addPacket("packet-crc-compound", goldenSetup{protocolVersion: 2}, 5, compound3)
	addPacket("packet-lzw-compound", goldenSetup{protocolVersion: 2, compress: true}, 4, compoundMany)
	addPacket("packet-lzw-crc-compound", goldenSetup{protocolVersion: 2, compress: true}, 5, compoundMany)
	addPacket("packet-lzw-not-smaller", goldenSetup{protocolVersion: 2, compress: true}, 5, ack)
	addPacket("packet-aes128-v1", goldenSetup{protocolVersion: 2, keys: [][]byte{key16}}, 4, deadC)
	addPacket("packet-aes192-v1-crc", goldenSetup{protocolVersion: 5, keys: [][]byte{key24}}, 5, pingB)
	addPacket("packet-aes256-v1-lzw-crc-compound", goldenSetup{protocolVersion: 5, compress: true,
		keys: [][]byte{key32, key16}}, 5, compoundMany)
	addPacket("packet-aes128-v0-pkcs7", goldenSetup{protocolVersion: 1, keys: [][]byte{key16}}, 4, aliveA)
	addPacket("packet-aes256-v0-pkcs7-block-multiple", goldenSetup{protocolVersion: 1, keys: [][]byte{key32}}, 4,
		append([]byte{byte(userMsg)}, []byte("fifteen bytes!!")...))
	addPacket("packet-secondary-key-primary", goldenSetup{protocolVersion: 3, keys: [][]byte{key24, key16, key32}}, 4, suspectB)
	addPacket("packet-label-plain", goldenSetup{protocolVersion: 2, label: "prod-eu"}, 4, pingB)
	addPacket("packet-label-aes128-v1-crc", goldenSetup{protocolVersion: 5, keys: [][]byte{key16}, label: "prod-eu"}, 5, compound3)
	addPacket("packet-label-aes256-v1-lzw-crc", goldenSetup{protocolVersion: 5, compress: true,
		keys: [][]byte{key32}, label: string(bytes.Repeat([]byte("L"), 255))}, 5, compoundMany)

	// Streams (net.go sendLocalState, sendUserMsg, rawSendMsgStream), read back with Go's
	// readStream + readRemoteState.
	addStream := func(name, kind string, s goldenSetup, write func(m *Memberlist, c net.Conn) error) {
		m, _ := goldenMemberlist(s)
		if s.label != "" {
			// Memberlist's own stream writer without keys, then the ported label framing.
			m, _ = goldenMemberlist(goldenSetup{protocolVersion: s.protocolVersion, compress: s.compress,
				userState: s.userState})
		}
		m.nodes = goldenNodes()
		c := &goldenConn{}
		if err := write(m, c); err != nil {
			panic(err)
		}
		out := c.out.Bytes()
		off := 0
		vsn := m.encryptionVersion()
		if s.label != "" {
			out = goldenLabelStream(vsn, s, out)
			off = 2 + len(s.label)
		}
		f := GoldenFixture{"name": name, "kind": kind, "compress": s.compress, "hex": hex.EncodeToString(out),
			"keys": hexes(s.keys), "label": s.label}
		body := out[off:]
		if len(s.keys) > 0 {
			f["encryptionVersion"] = int(vsn)
			f["nonceHex"] = goldenNonce(out, off+5)
			kr, _ := NewKeyring(s.keys[1:], s.keys[0])
			aad := append(append([]byte(nil), out[off:off+5]...), s.label...)
			plain, err := decryptPayload(kr.GetKeys(), out[off+5:], aad)
			if err != nil {
				panic(err)
			}
			f["plainHex"] = hex.EncodeToString(plain)
			if s.label != "" {
				body = plain // read the decrypted stream back as plaintext below
			}
		}
		// Read back with protocol 5: below 2, readRemoteState overwrites ports with BindPort.
		readKeys := s.keys
		if s.label != "" {
			readKeys = nil
		}
		rm, _ := goldenMemberlist(goldenSetup{protocolVersion: 5, keys: readKeys})
		rc := &goldenConn{in: bytes.NewReader(body)}
		msgType, bufConn, dec, err := rm.readStream(rc)
		if err != nil {
			panic(err)
		}
		f["type"] = int(msgType)
		switch msgType {
		case pushPullMsg:
			join, nodes, userState, err := rm.readRemoteState(bufConn, dec)
			if err != nil {
				panic(err)
			}
			f["go"] = map[string]interface{}{"Join": join, "Nodes": goldenJSON(reflect.ValueOf(nodes)),
				"UserState": hex.EncodeToString(userState)}
		case userMsg:
			var h userMsgHeader
			if err := dec.Decode(&h); err != nil {
				panic(err)
			}
			payload := make([]byte, h.UserMsgLen)
			if _, err := io.ReadFull(bufConn, payload); err != nil {
				panic(err)
			}
			f["go"] = map[string]interface{}{"UserMsgLen": h.UserMsgLen, "Payload": hex.EncodeToString(payload)}
		case pingMsg:
			var p ping
			if err := dec.Decode(&p); err != nil {
				panic(err)
			}
			f["go"] = goldenJSON(reflect.ValueOf(p))
		case errMsg:
			var e errResp
			if err := dec.Decode(&e); err != nil {
				panic(err)
			}
			f["go"] = goldenJSON(reflect.ValueOf(e))
		}
		g.Streams = append(g.Streams, f)
	}
	pushPull := func(join bool) func(m *Memberlist, c net.Conn) error {
		return func(m *Memberlist, c net.Conn) error { return m.sendLocalState(c, join) }
	}
	userState := []byte("topic-directory:v1;orders,payments,chat")
	addStream("stream-push-pull", "push-pull", goldenSetup{protocolVersion: 2, userState: userState}, pushPull(false))
	addStream("stream-push-pull-join-no-user-state", "push-pull", goldenSetup{protocolVersion: 2}, pushPull(true))
	addStream("stream-push-pull-lzw", "push-pull", goldenSetup{protocolVersion: 2, compress: true, userState: userState}, pushPull(false))
	addStream("stream-push-pull-aes128-v1", "push-pull", goldenSetup{protocolVersion: 5, keys: [][]byte{key16},
		userState: userState}, pushPull(true))
	addStream("stream-push-pull-aes256-v0-lzw", "push-pull", goldenSetup{protocolVersion: 1, compress: true,
		keys: [][]byte{key32, key24}, userState: userState}, pushPull(false))
	userStream := func(payload []byte) func(m *Memberlist, c net.Conn) error {
		return func(m *Memberlist, c net.Conn) error {
			buf := bytes.NewBuffer(nil)
			buf.WriteByte(byte(userMsg))
			hd := codec.MsgpackHandle{}
			if err := codec.NewEncoder(buf, &hd).Encode(&userMsgHeader{UserMsgLen: len(payload)}); err != nil {
				return err
			}
			buf.Write(payload)
			return m.rawSendMsgStream(c, buf.Bytes())
		}
	}
	addStream("stream-user-msg", "user", goldenSetup{protocolVersion: 2}, userStream(bytes.Repeat([]byte("payload "), 40)))
	addStream("stream-user-msg-aes128-v1", "user", goldenSetup{protocolVersion: 4, keys: [][]byte{key16}}, userStream([]byte("secret")))
	rawStream := func(b []byte) func(m *Memberlist, c net.Conn) error {
		return func(m *Memberlist, c net.Conn) error { return m.rawSendMsgStream(c, b) }
	}
	addStream("stream-ping", "ping", goldenSetup{protocolVersion: 3}, rawStream(pingB))
	addStream("stream-ping-lzw", "ping", goldenSetup{protocolVersion: 3, compress: true}, rawStream(pingB))
	addStream("stream-push-pull-label-aes128-v1", "push-pull", goldenSetup{protocolVersion: 5, keys: [][]byte{key16},
		userState: userState, label: "prod-eu"}, pushPull(false))
	addStream("stream-ping-label-plain", "ping", goldenSetup{protocolVersion: 3, label: "prod-eu"}, rawStream(pingB))
	addStream("stream-err", "err", goldenSetup{protocolVersion: 2},
		rawStream(mustEncode(errMsg, &errResp{Error: "push/pull refused"})))
	return g
}
