package wal

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"

	"github.com/ducktail/ducktail/storage/vfs"
)

// listFiles returns the numbers of the log files in dir, ascending. A
// missing dir holds no files.
func listFiles(fsys vfs.FS, dir string) ([]uint64, error) {
	return listNumbers(fsys, dir, parseFileName)
}

// listNumbers returns the numbers parse finds in the names of dir's
// entries, ascending.
func listNumbers(fsys vfs.FS, dir string, parse func(name string) (uint64, bool)) ([]uint64, error) {
	names, err := fsys.List(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var nums []uint64
	for _, name := range names {
		if n, ok := parse(name); ok {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	return nums, nil
}

// filePath returns the path of log file number n in dir.
func filePath(dir string, n uint64) string { return filepath.Join(dir, fileName(n)) }
