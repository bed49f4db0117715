package contract_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// jsonNode is a value of a body with where it is, for the tests'
// mutations and for ordering violations by where they are in the body.
type jsonNode struct {
	kind       jsontext.Kind
	start, end int // the value's bytes
	members    []member
	elems      []*jsonNode
	parent     *jsonNode
	index      int // in the parent's members or elems
}

type member struct {
	name      string // as encoding/json reads it
	nameStart int
	value     *jsonNode
}

// parseTree reads body's first value as kin-openapi's decoder would
// (repeated names kept, invalid UTF-8 allowed); ok is false when it is not JSON.
func parseTree(body []byte) (root *jsonNode, ok bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	start := func() int {
		off := int(dec.InputOffset())
		for off < len(body) && strings.IndexByte(" \t\r\n,:", body[off]) >= 0 {
			off++
		}
		return off
	}
	var read func(parent *jsonNode, index int) (*jsonNode, bool)
	read = func(parent *jsonNode, index int) (*jsonNode, bool) {
		n := &jsonNode{kind: dec.PeekKind(), start: start(), parent: parent, index: index}
		switch n.kind {
		case '{':
			if _, err := dec.ReadToken(); err != nil {
				return nil, false
			}
			for dec.PeekKind() == '"' {
				nameStart := start()
				raw, err := dec.ReadValue()
				if err != nil {
					return nil, false
				}
				var name string
				if json.Unmarshal(raw, &name) != nil {
					return nil, false
				}
				v, ok := read(n, len(n.members))
				if !ok {
					return nil, false
				}
				n.members = append(n.members, member{name: name, nameStart: nameStart, value: v})
			}
			if _, err := dec.ReadToken(); err != nil {
				return nil, false
			}
		case '[':
			if _, err := dec.ReadToken(); err != nil {
				return nil, false
			}
			for k := dec.PeekKind(); k != ']'; k = dec.PeekKind() {
				if k == 0 {
					return nil, false
				}
				v, ok := read(n, len(n.elems))
				if !ok {
					return nil, false
				}
				n.elems = append(n.elems, v)
			}
			if _, err := dec.ReadToken(); err != nil {
				return nil, false
			}
		default:
			if _, err := dec.ReadValue(); err != nil {
				return nil, false
			}
		}
		n.end = int(dec.InputOffset())
		return n, true
	}
	return read(nil, 0)
}

// all lists the tree's values in the order of the body.
func (n *jsonNode) all() []*jsonNode {
	out := []*jsonNode{n}
	for _, m := range n.members {
		out = append(out, m.value.all()...)
	}
	for _, e := range n.elems {
		out = append(out, e.all()...)
	}
	return out
}

// orderKey places a violation's path in the body: at each step the
// position of the member (the last of that name, which is the one decoding
// keeps) or of the element; a missing member comes after the present ones.
func orderKey(root *jsonNode, path string) []int {
	var key []int
	n := root
	if path == "" {
		return key
	}
	for _, tok := range strings.Split(path[1:], "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		if n == nil {
			key = append(key, 0)
			continue
		}
		switch n.kind {
		case '{':
			i := len(n.members) - 1
			for i >= 0 && n.members[i].name != tok {
				i--
			}
			if i < 0 {
				key = append(key, len(n.members))
				n = nil
				continue
			}
			key = append(key, i)
			n = n.members[i].value
		case '[':
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.elems) {
				key = append(key, len(n.elems))
				n = nil
				continue
			}
			key = append(key, i)
			n = n.elems[i]
		default:
			key = append(key, 0)
			n = nil
		}
	}
	return key
}

// palette are the replacement values of the mutations: wrong types,
// out-of-range numbers, bad dates and enums, oversized strings.
var palette = []string{
	`null`, `true`, `false`, `0`, `-1`, `1.5`, `1.0`, `9223372036854775807`, `9223372036854775808`, `1e400`, `-0`,
	`""`, `"x"`, `"12"`, `"2025-13-01T00:00:00Z"`, `"2025-02-29T00:00:00Z"`, `"2024-02-29T10:00:00+01:00"`, `"2025-07-01"`,
	`"2025-02-30"`, `"2020-07-06 12:00:00.000000"`, `"NOT_IN_ENUM"`, `"VALIDATION_FAILED"`, `"body"`, `"cookie"`,
	`{}`, `[]`, `[null]`, `{"a":1}`, `[{}]`, `"\ud800"`, `"a\u0000b"`, "\"\xff\xfe\"", `"\u00e9t\u00e9"`,
	`"` + strings.Repeat("a", 30001) + `"`,
}

// mutation kinds.
const (
	mReplace = iota
	mDelete
	mAddUnknown
	mDuplicateAfter
	mDuplicateBefore
	mRename
	mKinds
)

// mutate applies one structural mutation to body: kind at the value the
// target-th in body order, with the pal-th palette value; ok is false when
// it does not apply there.
func mutate(body []byte, root *jsonNode, kind, target, pal int) ([]byte, bool) {
	values := root.all()
	n := values[target%len(values)]
	repl := palette[pal%len(palette)]
	splice := func(start, end int, s string) []byte {
		return slices.Concat(body[:start], []byte(s), body[end:])
	}
	inObject := n.parent != nil && n.parent.kind == '{'
	switch kind {
	case mReplace:
		return splice(n.start, n.end, repl), true
	case mAddUnknown:
		if n.kind != '{' {
			return nil, false
		}
		s := `"zzUnknown":` + repl
		if len(n.members) > 0 {
			s += ","
		}
		return splice(n.start+1, n.start+1, s), true
	}
	if !inObject {
		return nil, false
	}
	p, i := n.parent, n.index
	m := p.members[i]
	quoted, _ := json.Marshal(m.name)
	switch kind {
	case mDelete:
		start, end := m.nameStart, m.value.end
		switch {
		case i+1 < len(p.members):
			end = p.members[i+1].nameStart
		case i > 0:
			start = p.members[i-1].value.end
		}
		return splice(start, end, ""), true
	case mDuplicateAfter:
		return splice(m.value.end, m.value.end, ","+string(quoted)+":"+repl), true
	case mDuplicateBefore:
		return splice(m.nameStart, m.nameStart, string(quoted)+":"+repl+","), true
	case mRename:
		return splice(m.nameStart, m.nameStart+1, `"zz`), true
	}
	return nil, false
}
