package boltstore_test

import "github.com/google/uuid"

func parseUUID(s string) ([]byte, error) {
	u, err := uuid.Parse(s)
	return u[:], err
}
