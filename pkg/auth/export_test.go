package auth

// ParsePHC exposes the PHC parser to the external tests: it returns the
// canonical re-encoding of a string parsePHC accepts.
func ParsePHC(s string) (string, error) {
	p, err := parsePHC(s)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// DummyPHC is the hash unknown key ids are checked against.
const DummyPHC = dummyPHC
