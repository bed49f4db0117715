package client

import "bytes"

// normalizeTimestamps rewrites every JSON string value of the older form
// "2020-07-06 12:00:00.000000" (matching
// ^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$) to RFC 3339 in UTC
// ("2020-07-06T12:00:00.000000Z"), so that time.Time can decode it. Object
// keys and every other byte are left alone. A body without such a value is
// returned as is, without copying.
func normalizeTimestamps(body []byte) []byte {
	if !hasLegacyTimestamp(body) {
		return body
	}
	out := make([]byte, 0, len(body)+64)
	for i := 0; i < len(body); {
		q := bytes.IndexByte(body[i:], '"')
		if q < 0 {
			return append(out, body[i:]...)
		}
		out = append(out, body[i:i+q]...)
		i += q
		end := stringEnd(body, i)
		if end < 0 { // unterminated: not JSON, leave it to the decoder
			return append(out, body[i:]...)
		}
		content := body[i+1 : end]
		if legacyTimestamp(content) && !isKey(body, end+1) {
			out = append(out, '"')
			out = append(out, content[:10]...)
			out = append(out, 'T')
			out = append(out, content[11:]...)
			out = append(out, 'Z', '"')
		} else {
			out = append(out, body[i:end+1]...)
		}
		i = end + 1
	}
	return out
}

// hasLegacyTimestamp is the fast path: it looks only at the spaces of body for
// one that sits inside a quoted legacy timestamp.
func hasLegacyTimestamp(body []byte) bool {
	for off := 0; ; {
		j := bytes.IndexByte(body[off:], ' ')
		if j < 0 {
			return false
		}
		sp := off + j
		off = sp + 1
		if sp < 11 || body[sp-11] != '"' {
			continue
		}
		rest := body[sp-10:]
		if end := bytes.IndexByte(rest, '"'); end >= 0 && legacyTimestamp(rest[:end]) {
			return true
		}
	}
}

// stringEnd returns the index of the quote closing the JSON string that opens
// at start, or -1 when it is not closed.
func stringEnd(b []byte, start int) int {
	for i := start + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// isKey reports whether the string ending just before i is an object key,
// that is, whether the next non-space byte is a colon.
func isKey(b []byte, i int) bool {
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case ':':
			return true
		}
		return false
	}
	return false
}

// legacyTimestamp matches \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?
// exactly.
func legacyTimestamp(s []byte) bool {
	const layout = "dddd-dd-dd dd:dd:dd"
	if len(s) != len(layout) && (len(s) < len(layout)+2 || len(s) > len(layout)+10) {
		return false
	}
	for i := range len(layout) {
		if layout[i] == 'd' {
			if !isDigit(s[i]) {
				return false
			}
		} else if s[i] != layout[i] {
			return false
		}
	}
	if len(s) == len(layout) {
		return true
	}
	if s[len(layout)] != '.' {
		return false
	}
	for _, c := range s[len(layout)+1:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
