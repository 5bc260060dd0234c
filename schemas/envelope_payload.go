package schemas

import "fmt"

// The relay checks every payload it publishes: the writer validated it against its schema when it stored it,
// but a journal item written past the writer (by hand, by an older build) must stop the relay with an error,
// not reach the consumers as an envelope that is not JSON. The check is one pass over the payload that also
// finds any white space between tokens; the writer stores compact JSON, which is then copied in one go.

// maxPayloadDepth is encoding/json's limit on nested arrays and objects, so that both refuse the same payloads.
const maxPayloadDepth = 10000

// appendPayload appends raw, one JSON value, without white space between tokens; it fails with
// errPayloadNotJSON (wrapped, with the offset where the check stopped), having appended nothing, when raw is
// not exactly one valid JSON value as encoding/json.Valid judges it.
func appendPayload(dst, raw []byte) ([]byte, error) {
	s := payloadScan{b: raw}
	s.space()
	ok := s.value()
	if ok {
		s.space()
		ok = s.i == len(raw)
	}
	switch {
	case !ok:
		return dst, fmt.Errorf("%w: byte %d of %d", errPayloadNotJSON, min(s.i, len(raw)), len(raw))
	case s.spaced:
		return appendCompactValid(dst, raw), nil
	default:
		return append(dst, raw...), nil
	}
}

// appendCompactValid appends raw, valid JSON, without the white space outside its strings.
func appendCompactValid(dst, raw []byte) []byte {
	inString := false
	from := 0
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inString && c == '\\':
			i++ // the escaped byte cannot end the string
		case c == '"':
			inString = !inString
		case !inString && isSpace(c):
			dst = append(dst, raw[from:i]...)
			from = i + 1
		}
	}
	return append(dst, raw[from:]...)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// payloadScan is a recursive-descent check of one JSON value in b from i, noting white space between tokens.
type payloadScan struct {
	b      []byte
	i      int
	depth  int
	spaced bool
}

func (s *payloadScan) space() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
		s.spaced = true
	}
}

// next returns the byte at i, or 0 at the end (0 is no valid byte between tokens).
func (s *payloadScan) next() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *payloadScan) value() bool {
	switch c := s.next(); {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		return s.str()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *payloadScan) object() bool { return s.container('}', true) }

func (s *payloadScan) array() bool { return s.container(']', false) }

// container checks an object (members "key": value) or an array (values) from its opening bracket at i to
// closer, members separated by commas.
func (s *payloadScan) container(closer byte, object bool) bool {
	if s.depth++; s.depth > maxPayloadDepth {
		return false
	}
	s.i++
	s.space()
	if s.next() == closer {
		s.i++
		s.depth--
		return true
	}
	for {
		if object && !s.key() || !s.value() {
			return false
		}
		s.space()
		switch s.next() {
		case ',':
			s.i++
			s.space()
		case closer:
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// key checks an object member's key and colon, and the white space up to its value.
func (s *payloadScan) key() bool {
	if s.next() != '"' || !s.str() {
		return false
	}
	s.space()
	if s.next() != ':' {
		return false
	}
	s.i++
	s.space()
	return true
}

// plainInString marks the bytes a JSON string holds as they are: all but control characters, quotes and
// backslashes (encoding/json does not check UTF-8 here, and neither does this).
var plainInString = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *payloadScan) str() bool {
	b := s.b
	for i := s.i + 1; i < len(b); {
		c := b[i]
		if plainInString[c] {
			i++
			continue
		}
		switch c {
		case '"':
			s.i = i + 1
			return true
		case '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return false
				}
				i += 6
			default:
				return false
			}
		default:
			return false // a control character
		}
	}
	return false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *payloadScan) number() bool {
	if s.next() == '-' {
		s.i++
	}
	switch c := s.next(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.next() == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if c := s.next(); c == 'e' || c == 'E' {
		s.i++
		if c := s.next(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips [0-9]+ and reports whether there was one at least.
func (s *payloadScan) digits() bool {
	from := s.i
	for s.i < len(s.b) && isDigit(s.b[s.i]) {
		s.i++
	}
	return s.i > from
}

func (s *payloadScan) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}
