package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ms converts a time to the stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// msp converts an optional time to a nullable column value.
func msp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// timeCol scans a NOT NULL millisecond column into a time.Time.
type timeCol struct{ dst *time.Time }

func (c timeCol) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("sqlite: time column holds %T", src)
	}
	*c.dst = time.UnixMilli(v).UTC()
	return nil
}

// nullTimeCol scans a nullable millisecond column into a *time.Time.
type nullTimeCol struct{ dst **time.Time }

func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.dst = nil
		return nil
	}
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("sqlite: time column holds %T", src)
	}
	t := time.UnixMilli(v).UTC()
	*c.dst = &t
	return nil
}

// jsonCol scans a JSON text column into dst; NULL leaves dst unchanged.
type jsonCol struct{ dst any }

func (c jsonCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("sqlite: json column holds %T", src)
	}
	if err := json.Unmarshal(b, c.dst); err != nil {
		return fmt.Errorf("sqlite: decode json column: %w", err)
	}
	return nil
}

// jsonArg encodes v for a JSON text column.
func jsonArg(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode json column: %w", err)
	}
	return string(b), nil
}

// idList encodes ids as a JSON array for `IN (SELECT value FROM json_each(?))`.
func idList(ids []int64) string {
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", id)
	}
	return string(append(b, ']'))
}

// boolInt stores a bool as 0 or 1.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
