package encode

import (
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Layouts of timestamps per unit: RFC 3339 in UTC with the unit's digits.
const (
	layoutS  = "2006-01-02T15:04:05Z07:00"
	layoutMS = "2006-01-02T15:04:05.000Z07:00"
	layoutUS = "2006-01-02T15:04:05.000000Z07:00"
	layoutNS = "2006-01-02T15:04:05.000000000Z07:00"
	layoutD  = "2006-01-02"
)

// newTemporalTextAppender returns the unquoted text appender of dates,
// timestamps and times of day, or nil for other types.
func newTemporalTextAppender(arr arrow.Array) ValueAppender {
	switch a := arr.(type) {
	case *array.Date32:
		vals := a.Values()
		return func(dst []byte, i int) []byte {
			return time.Unix(int64(vals[i])*86400, 0).UTC().AppendFormat(dst, layoutD)
		}
	case *array.Date64:
		vals := a.Values()
		return func(dst []byte, i int) []byte {
			return time.UnixMilli(int64(vals[i])).UTC().AppendFormat(dst, layoutD)
		}
	case *array.Timestamp:
		vals := a.Values()
		unit := a.DataType().(*arrow.TimestampType).Unit
		return func(dst []byte, i int) []byte { return appendTimestamp(dst, int64(vals[i]), unit) }
	case *array.Time32:
		vals := a.Values()
		unit := a.DataType().(*arrow.Time32Type).Unit
		return func(dst []byte, i int) []byte { return appendTimeOfDay(dst, int64(vals[i]), unit) }
	case *array.Time64:
		vals := a.Values()
		unit := a.DataType().(*arrow.Time64Type).Unit
		return func(dst []byte, i int) []byte { return appendTimeOfDay(dst, int64(vals[i]), unit) }
	}
	return nil
}

// appendTimestamp appends v (a count of unit since the epoch) as RFC 3339 in
// UTC with the unit's precision.
func appendTimestamp(dst []byte, v int64, unit arrow.TimeUnit) []byte {
	switch unit {
	case arrow.Second:
		return time.Unix(v, 0).UTC().AppendFormat(dst, layoutS)
	case arrow.Millisecond:
		return time.UnixMilli(v).UTC().AppendFormat(dst, layoutMS)
	case arrow.Microsecond:
		return time.UnixMicro(v).UTC().AppendFormat(dst, layoutUS)
	default:
		return time.Unix(0, v).UTC().AppendFormat(dst, layoutNS)
	}
}

// appendTimeOfDay appends v (a count of unit since midnight) as
// HH:MM:SS with the unit's fraction digits. Values outside a day are
// written as they are (more hours, or a leading '-').
func appendTimeOfDay(dst []byte, v int64, unit arrow.TimeUnit) []byte {
	per, digits := uint64(1), 0
	switch unit {
	case arrow.Millisecond:
		per, digits = 1e3, 3
	case arrow.Microsecond:
		per, digits = 1e6, 6
	case arrow.Nanosecond:
		per, digits = 1e9, 9
	}
	u := uint64(v)
	if v < 0 {
		dst = append(dst, '-')
		u = -u
	}
	secs, frac := u/per, u%per
	dst = appendPadded(dst, secs/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs/60%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs%60, 2)
	if digits > 0 {
		dst = append(dst, '.')
		dst = appendPadded(dst, frac, digits)
	}
	return dst
}

// appendPadded appends u in decimal, left-padded with zeros to width.
func appendPadded(dst []byte, u uint64, width int) []byte {
	var buf [20]byte
	b := strconv.AppendUint(buf[:0], u, 10)
	for k := len(b); k < width; k++ {
		dst = append(dst, '0')
	}
	return append(dst, b...)
}
