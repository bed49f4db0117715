package compiled

import (
	"bytes"
	"cmp"
	"errors"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Validate checks body, one JSON value (what follows it is ignored, as
// kin-openapi ignores it), against the schema. It returns nil, an *Error
// holding every violation, or a *SyntaxError.
func (s *Schema) Validate(body []byte) error {
	w := s.walker()
	defer s.release(w)
	w.src, w.body = *bytes.NewBuffer(body), body
	w.dec.Reset(&w.src, s.decOptions()...)
	if err := w.value(s.root); err != nil {
		return &SyntaxError{Err: err}
	}
	if w.live == 0 {
		return nil
	}
	if w.reread {
		// Values read more than once (allOf) gave their findings pass by pass.
		slices.SortStableFunc(w.viol, func(a, b violation) int { return cmp.Compare(a.pos, b.pos) })
	}
	out := &Error{Violations: make([]Violation, 0, w.live)}
	for _, v := range w.viol {
		if !v.dead {
			out.Violations = append(out.Violations, Violation{Path: v.path, Reason: v.reason})
		}
	}
	return out
}

var (
	allowDupes = []jsontext.Options{jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true)}
	rejectDups = []jsontext.Options{jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(false)}
)

func (s *Schema) decOptions() []jsontext.Options {
	if s.cfg.rejectDupes {
		return rejectDups
	}
	return allowDupes
}

var walkers sync.Pool

func (s *Schema) walker() *walker {
	w, _ := walkers.Get().(*walker)
	if w == nil {
		w = &walker{dec: jsontext.NewDecoder(bytes.NewBuffer(nil))}
	}
	w.s = s
	return w
}

func (s *Schema) release(w *walker) {
	const keep = 1 << 16 // do not pool what one huge body grew
	if cap(w.scratch) > keep || cap(w.viol) > keep {
		return
	}
	w.s, w.body = nil, nil
	clear(w.passed)
	w.src = bytes.Buffer{}
	w.dec.Reset(&w.src) // let the body go
	for _, sp := range w.spares {
		sp.buf = bytes.Buffer{}
		sp.dec.Reset(&sp.buf)
	}
	w.path, w.viol, w.seen, w.spans, w.extras = w.path[:0], w.viol[:0], w.seen[:0], w.spans[:0], w.extras[:0]
	w.live, w.base, w.reread = 0, 0, false
	walkers.Put(w)
}

// walker is the state of one validation.
type walker struct {
	s   *Schema
	dec *jsontext.Decoder
	src bytes.Buffer
	// spares are decoders for reading a value again (allOf with more than
	// one schema that looks inside it), one per level of such reading.
	spares []*spare
	depth  int
	// base is where w.dec's input starts in the body; reread says that a
	// value was read more than once, so the violations need sorting.
	base   int64
	reread bool

	path []token
	viol []violation
	live int // violations not dead

	// seen and spans hold, for every open object, a flag and the span of
	// violations of each of its schema's names; extras the names outside them.
	seen   []bool
	spans  []span
	extras []extra

	scratch, nameScratch, cmpScratch []byte

	// body is what Validate checks; passed remembers, by schema and first
	// bytes, objects of it that passed their schema (see memoized).
	body   []byte
	passed map[memoKey]extent
}

// extent is the bytes [lo, hi) of the body.
type extent struct{ lo, hi int }

type memoKey struct {
	n      *node
	prefix uint64 // hash of the object's first memoMin bytes
}

type spare struct {
	dec *jsontext.Decoder
	buf bytes.Buffer
}

// token is one step of the path: a member name as it is in the body
// (quoted), a name, or an index.
type token struct {
	kind  tokenKind
	raw   []byte
	name  string
	index int
}

type tokenKind uint8

const (
	tIndex tokenKind = iota
	tRaw
	tName
)

type violation struct {
	path, reason string
	pos          int64 // where in the body the value is
	dead         bool
}

// span is the violations [lo, hi) that one member's value caused.
type span struct{ lo, hi int }

type extra struct {
	raw []byte
	span
}

// add records a violation of the value at the current path.
func (w *walker) add(reason string) {
	w.viol = append(w.viol, violation{path: w.pointer(), reason: reason, pos: w.base + w.dec.InputOffset()})
	w.live++
}

// insert records a violation of the value at the current path before
// those found inside it since position at.
func (w *walker) insert(at int, pos int64, reason string) {
	w.viol = append(w.viol, violation{})
	copy(w.viol[at+1:], w.viol[at:])
	w.viol[at] = violation{path: w.pointer(), reason: reason, pos: pos}
	w.live++
}

// kill drops the violations of a member that a later one of the same name replaces.
func (w *walker) kill(s span) {
	for i := s.lo; i < s.hi; i++ {
		if !w.viol[i].dead {
			w.viol[i].dead = true
			w.live--
		}
	}
}

func (w *walker) pointer() string {
	if len(w.path) == 0 {
		return ""
	}
	var b []byte
	for _, t := range w.path {
		b = append(b, '/')
		switch t.kind {
		case tRaw:
			b = appendEscaped(b, w.unquote(t.raw, &w.cmpScratch))
		case tName:
			b = appendEscaped(b, t.name)
		default:
			b = strconv.AppendInt(b, int64(t.index), 10)
		}
	}
	return string(b)
}

func appendEscaped[T ~[]byte | ~string](b []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '~':
			b = append(b, "~0"...)
		case '/':
			b = append(b, "~1"...)
		default:
			b = append(b, s[i])
		}
	}
	return b
}

// unquote returns the content of the JSON string raw as encoding/json
// reads it (invalid UTF-8 as U+FFFD), in raw itself when it needs no change
// or else in *scratch.
func (w *walker) unquote(raw []byte, scratch *[]byte) []byte {
	inner := raw[1 : len(raw)-1]
	plain := true
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain || (bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner)) {
		return inner
	}
	// The decoder has checked the string; the error only reports replaced
	// invalid UTF-8 or a lone surrogate, both read as U+FFFD.
	*scratch, _ = jsontext.AppendUnquote((*scratch)[:0], raw)
	return *scratch
}

// value checks the next value of w.dec against n.
func (w *walker) value(n *node) error {
	if n.fallback {
		return w.kin(n, nil)
	}
	switch k := w.dec.PeekKind(); k {
	case '{', '[':
		return w.composite(n, k, nil, 0)
	case 'n', 't', 'f', '"', '0':
		raw, err := w.dec.ReadValue()
		if err != nil {
			return err
		}
		w.scalar(n, k, raw)
		return nil
	default:
		_, err := w.dec.ReadValue()
		if err == nil {
			err = errors.New("jsontext: no value")
		}
		return err
	}
}

// scalar checks a null, boolean, string or number as kin-openapi's visitJSON does.
func (w *walker) scalar(n *node, k jsontext.Kind, raw []byte) {
	if n.fallback {
		_ = w.kin(n, raw)
		return
	}
	if k == 'n' && n.nullable {
		return
	}
	if n.empty {
		if k == 'n' {
			w.add("Value is not nullable")
		}
		return
	}
	if len(n.allOf) > 0 {
		mark := w.live
		for _, sub := range n.allOf {
			w.scalar(sub, k, raw)
		}
		if w.live > mark || k == 'n' {
			return
		}
	}
	if n.enum != nil && !w.inEnum(n.enum, k, raw) {
		w.add(n.enumMsg)
		return
	}
	switch k {
	case 'n':
		w.add("Value is not nullable")
	case 't', 'f':
		if !n.permits(kBoolean) {
			w.add(n.typeMsg)
		}
	case '"':
		w.str(n, raw)
	case '0':
		w.num(n, raw)
	}
}

func (w *walker) inEnum(e *enumSet, k jsontext.Kind, raw []byte) bool {
	switch k {
	case 'n':
		return e.null
	case 't':
		return e.bools[1]
	case 'f':
		return e.bools[0]
	case '"':
		_, ok := e.strings[string(w.unquote(raw, &w.scratch))]
		return ok
	case '0':
		if len(e.numbers) == 0 {
			return false
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return false
		}
		for _, x := range e.numbers {
			if x == f {
				return true
			}
		}
	}
	return false
}

func (w *walker) str(n *node, raw []byte) {
	if !n.permits(kString) {
		w.add(n.typeMsg)
		return
	}
	if !n.strChecks {
		return
	}
	s := w.unquote(raw, &w.scratch)
	if n.minLength != 0 || n.maxLength >= 0 {
		// kin-openapi counts runes (its UTF-16 adjustment never applies
		// to a decoded Go string).
		l := int64(utf8.RuneCount(s))
		if n.minLength != 0 && l < n.minLength {
			w.add("minimum string length is " + strconv.FormatInt(n.minLength, 10))
		}
		if n.maxLength >= 0 && l > n.maxLength {
			w.add("maximum string length is " + strconv.FormatInt(n.maxLength, 10))
		}
	}
	if n.pattern != nil && !n.pattern.Match(s) {
		w.add(n.patternMsg)
	}
	if n.strFormat != nil {
		var err error
		if n.strFormatBytes != nil {
			err = n.strFormatBytes.ValidateBytes(s)
		} else {
			err = n.strFormat.Validate(string(s))
		}
		if err != nil {
			w.add(formatReason("string", n.formatName, err))
		}
	}
}

func (w *walker) num(n *node, raw []byte) {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		w.add("cannot convert json.Number to float64")
		return
	}
	if n.requireInteger {
		if f != math.Trunc(f) {
			w.add("value must be an integer")
		}
	} else if !n.permits(kInteger) && !n.permits(kNumber) {
		w.add(n.typeMsg)
		return
	}
	if n.requireInteger && n.intFormat != nil {
		if err := validateIntegerFormat(n.intFormat, f); err != nil {
			w.add(formatReason("integer", n.formatName, err))
		}
	} else if !n.requireInteger && n.numFormat != nil {
		if err := n.numFormat.Validate(f); err != nil {
			w.add(formatReason("number", n.formatName, err))
		}
	}
	if n.exclMin != nil && !(f > *n.exclMin) {
		w.add(n.exclMinMsg)
	}
	if n.exclMax != nil && !(f < *n.exclMax) {
		w.add(n.exclMaxMsg)
	}
	if n.min != nil && !(*n.min <= f) {
		w.add(n.minMsg)
	}
	if n.max != nil && !(*n.max >= f) {
		w.add(n.maxMsg)
	}
}

// composite checks the object or array ahead (k is '{' or '[') against n
// as kin-openapi's visitJSON does: allOf first, then, when every part of it
// passed, the schema's own keywords. With src nil the value is read from
// w.dec, once, so at most one schema met along allOf may look inside it;
// when more must, src holds the value's bytes (from base in the body) and
// each reads them anew.
func (w *walker) composite(n *node, k jsontext.Kind, src []byte, base int64) error {
	if n.fallback {
		return w.kin(n, src)
	}
	if n.empty {
		return w.skip(src)
	}
	if src == nil && k == '{' && n.deepObject > 0 {
		if at := w.objectStart(); at >= 0 {
			return w.memoized(n, at)
		}
	}
	return w.check(n, k, src, base)
}

// memoMin is the length of the shortest object memoized remembers: a
// shorter one costs little to check.
const memoMin = 64

var memoSeed = maphash.MakeSeed()

// memoized checks the object at in the body against n, unless an object of
// the same bytes already passed n in this body: then it only reads past it.
// Checking an object depends on nothing but its bytes and its schema, and
// real pages repeat their nested objects (one connection, one user, for
// many identities).
func (w *walker) memoized(n *node, at int) error {
	key := memoKey{n: n, prefix: maphash.Bytes(memoSeed, w.body[at:min(at+memoMin, len(w.body))])}
	if sp, ok := w.passed[key]; ok && bytes.HasPrefix(w.body[at:], w.body[sp.lo:sp.hi]) {
		// ReadValue scans the value in one go where SkipValue reads it
		// token by token; the body is in memory either way.
		_, err := w.dec.ReadValue()
		return err
	}
	mark := w.live
	if err := w.check(n, '{', nil, 0); err != nil {
		return err
	}
	if end := int(w.base + w.dec.InputOffset()); w.live == mark && end-at >= memoMin {
		if w.passed == nil {
			w.passed = make(map[memoKey]extent)
		}
		w.passed[key] = extent{at, end}
	}
	return nil
}

// objectStart is where in the body the object ahead of w.dec begins, or -1.
func (w *walker) objectStart() int {
	for at := int(w.base + w.dec.InputOffset()); at < len(w.body); at++ {
		switch w.body[at] {
		case ' ', '\t', '\r', '\n', ',', ':':
		case '{':
			return at
		default:
			return -1
		}
	}
	return -1
}

// check is composite once the object or array is to be read.
func (w *walker) check(n *node, k jsontext.Kind, src []byte, base int64) error {
	deep, selfDeep := n.deepObject, n.selfDeepObject
	if k == '[' {
		deep, selfDeep = n.deepArray, n.selfDeepArray
	}
	if src == nil && deep > 1 {
		raw, err := w.dec.ReadValue()
		if err != nil {
			return err
		}
		src, base = raw, w.base+w.dec.InputOffset()-int64(len(raw))
		w.reread = true
	}
	read := false // whether the value was read from w.dec
	if len(n.allOf) > 0 {
		mark := w.live
		for _, sub := range n.allOf {
			if sub.deepFor(k) == 0 {
				w.shallow(sub, k)
				continue
			}
			if err := w.composite(sub, k, src, base); err != nil {
				return err
			}
			read = src == nil
		}
		if w.live > mark {
			if src == nil && !read {
				return w.dec.SkipValue()
			}
			return nil
		}
	}
	if !selfDeep {
		w.shallowSelf(n, k)
		if src == nil && !read {
			return w.dec.SkipValue()
		}
		return nil
	}
	if src == nil {
		return w.own(n, k)
	}
	return w.readAgain(src, base, func() error { return w.own(n, k) })
}

func (n *node) deepFor(k jsontext.Kind) int {
	if n.fallback {
		return 1
	}
	if k == '{' {
		return n.deepObject
	}
	return n.deepArray
}

// shallow checks an object or array against a schema that need not look
// inside it (deepFor is 0), without reading it.
func (w *walker) shallow(n *node, k jsontext.Kind) {
	if n.empty {
		return
	}
	mark := w.live
	for _, sub := range n.allOf {
		w.shallow(sub, k)
	}
	if w.live == mark {
		w.shallowSelf(n, k)
	}
}

func (w *walker) shallowSelf(n *node, k jsontext.Kind) {
	switch {
	case n.enum != nil:
		w.add(n.enumMsg) // an enum of scalars holds no object or array
	case k == '{' && !n.permits(kObject), k == '[' && !n.permits(kArray):
		w.add(n.typeMsg)
	}
}

func (w *walker) own(n *node, k jsontext.Kind) error {
	if k == '{' {
		return w.object(n)
	}
	return w.array(n)
}

// skip passes over a value, reading it from w.dec unless src holds it.
func (w *walker) skip(src []byte) error {
	if src != nil {
		return nil
	}
	return w.dec.SkipValue()
}

// readAgain runs f with w.dec reading src, a value already read whole
// from base in the body.
func (w *walker) readAgain(src []byte, base int64, f func() error) error {
	if w.depth == len(w.spares) {
		w.spares = append(w.spares, &spare{dec: jsontext.NewDecoder(bytes.NewBuffer(nil))})
	}
	sp := w.spares[w.depth]
	w.depth++
	sp.buf = *bytes.NewBuffer(src)
	sp.dec.Reset(&sp.buf, w.s.decOptions()...)
	outer, outerBase := w.dec, w.base
	w.dec, w.base = sp.dec, base
	err := f()
	w.dec, w.base = outer, outerBase
	w.depth--
	return err
}

func (w *walker) object(n *node) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	base, extraBase, start, open := len(w.seen), len(w.extras), len(w.viol), w.base+w.dec.InputOffset()
	w.seen = append(w.seen, make([]bool, len(n.nameList))...)
	w.spans = append(w.spans, make([]span, len(n.nameList))...)
	defer func() {
		w.seen, w.spans, w.extras = w.seen[:base], w.spans[:base], w.extras[:extraBase]
	}()
	counts := n.minProps != 0 || n.maxProps >= 0
	guess := 0
	for {
		switch k := w.dec.PeekKind(); k {
		case '}':
			_, err := w.dec.ReadToken()
			if err != nil {
				return err
			}
			return w.endObject(n, base, extraBase, start, open)
		case '"':
		default:
			_, err := w.dec.ReadToken()
			if err == nil {
				err = errors.New("jsontext: expected a name")
			}
			return err
		}
		rawName, err := w.dec.ReadValue()
		if err != nil {
			return err
		}
		// Members usually come in the order of the schema's sorted
		// properties, as generated code writes them: try the name after the
		// last one found before the map.
		name := w.unquote(rawName, &w.nameScratch)
		var i int
		var tracked bool
		if guess < len(n.nameList) && string(name) == n.nameList[guess] {
			i, tracked = guess, true
		} else {
			i, tracked = n.names[string(name)]
		}
		if tracked {
			guess = i + 1
		}
		if !tracked && n.additional == addAllow && !counts {
			if err := w.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		w.path = append(w.path, token{kind: tRaw, raw: rawName})
		lo := len(w.viol)
		if tracked {
			// A repeated name: the last member wins, as in a decoded map.
			if w.seen[base+i] {
				w.kill(w.spans[base+i])
			}
			w.seen[base+i] = true
			if i < len(n.props) {
				err = w.value(n.props[i])
			} else {
				err = w.extra(n, rawName)
			}
			w.spans[base+i] = span{lo, len(w.viol)}
		} else {
			j := w.findExtra(extraBase, rawName)
			if j < 0 {
				w.extras = append(w.extras, extra{raw: rawName})
				j = len(w.extras) - 1
			} else {
				w.kill(w.extras[j].span)
			}
			err = w.extra(n, rawName)
			w.extras[j].span = span{lo, len(w.viol)}
		}
		w.path = w.path[:len(w.path)-1]
		if err != nil {
			return err
		}
	}
}

// extra checks a member that the schema's properties do not name.
func (w *walker) extra(n *node, rawName []byte) error {
	switch n.additional {
	case addForbid:
		w.add("property " + strconv.Quote(string(w.unquote(rawName, &w.nameScratch))) + " is unsupported")
		return w.dec.SkipValue()
	case addSchema:
		return w.value(n.addl)
	default:
		return w.dec.SkipValue()
	}
}

func (w *walker) findExtra(from int, raw []byte) int {
	name := w.unquote(raw, &w.nameScratch)
	for j := from; j < len(w.extras); j++ {
		if bytes.Equal(w.unquote(w.extras[j].raw, &w.cmpScratch), name) {
			return j
		}
	}
	return -1
}

func (w *walker) endObject(n *node, base, extraBase, start int, open int64) error {
	if n.minProps != 0 || n.maxProps >= 0 {
		count := int64(len(w.extras) - extraBase)
		for _, seen := range w.seen[base:] {
			if seen {
				count++
			}
		}
		at := start
		if n.minProps != 0 && count < n.minProps {
			w.insert(at, open, n.minPropsMsg)
			at++
		}
		if n.maxProps >= 0 && count > n.maxProps {
			w.insert(at, open, n.maxPropsMsg)
		}
	}
	for j, i := range n.required {
		if !w.seen[base+i] {
			w.path = append(w.path, token{kind: tName, name: n.nameList[i]})
			w.add(n.requiredMsg[j])
			w.path = w.path[:len(w.path)-1]
		}
	}
	return nil
}

func (w *walker) array(n *node) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	start, count, open := len(w.viol), 0, w.base+w.dec.InputOffset()
	for {
		switch k := w.dec.PeekKind(); k {
		case ']':
			if _, err := w.dec.ReadToken(); err != nil {
				return err
			}
			at := start
			if n.minItems != 0 && int64(count) < n.minItems {
				w.insert(at, open, n.minItemsMsg)
				at++
			}
			if n.maxItems >= 0 && int64(count) > n.maxItems {
				w.insert(at, open, n.maxItemsMsg)
			}
			return nil
		case 0:
			_, err := w.dec.ReadToken()
			if err == nil {
				err = errors.New("jsontext: expected a value")
			}
			return err
		}
		var err error
		if n.items != nil {
			w.path = append(w.path, token{index: count})
			err = w.value(n.items)
			w.path = w.path[:len(w.path)-1]
		} else {
			err = w.dec.SkipValue()
		}
		if err != nil {
			return err
		}
		count++
	}
}
