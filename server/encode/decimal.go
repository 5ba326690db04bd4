package encode

import (
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// newDecimalAppender appends decimals exactly, with the type's scale, as
// JSON numbers. Values that fit in an int64 allocate nothing; wider ones go
// through math/big.
func newDecimalAppender(arr arrow.Array) ValueAppender {
	scale := int32(0)
	if dt, ok := arr.DataType().(arrow.DecimalType); ok {
		scale = dt.GetScale()
	}
	switch a := arr.(type) {
	case *array.Decimal32:
		vals := a.Values()
		return func(dst []byte, i int) []byte { return appendDecimalInt64(dst, int64(vals[i]), scale) }
	case *array.Decimal64:
		vals := a.Values()
		return func(dst []byte, i int) []byte { return appendDecimalInt64(dst, int64(vals[i]), scale) }
	case *array.Decimal128:
		vals := a.Values()
		return func(dst []byte, i int) []byte { return appendDecimal128(dst, vals[i], scale) }
	case *array.Decimal256:
		vals := a.Values()
		return func(dst []byte, i int) []byte { return appendDecimal256(dst, vals[i], scale) }
	}
	return appendNull
}

func appendDecimal128(dst []byte, n decimal128.Num, scale int32) []byte {
	hi, lo := n.HighBits(), n.LowBits()
	if (hi == 0 && lo < 1<<63) || (hi == -1 && lo >= 1<<63) {
		return appendDecimalInt64(dst, int64(lo), scale)
	}
	return appendDecimalBig(dst, n.BigInt(), scale)
}

func appendDecimal256(dst []byte, n decimal256.Num, scale int32) []byte {
	w := n.Array() // little-endian 64-bit words
	if (w[3] == 0 && w[2] == 0 && w[1] == 0 && w[0] < 1<<63) ||
		(w[3] == ^uint64(0) && w[2] == ^uint64(0) && w[1] == ^uint64(0) && w[0] >= 1<<63) {
		return appendDecimalInt64(dst, int64(w[0]), scale)
	}
	return appendDecimalBig(dst, n.BigInt(), scale)
}

func appendDecimalBig(dst []byte, b *big.Int, scale int32) []byte {
	neg := b.Sign() < 0
	b.Abs(b)
	var buf [80]byte
	return appendDecimalDigits(dst, neg, b.Append(buf[:0], 10), scale)
}
