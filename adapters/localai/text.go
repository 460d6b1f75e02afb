package localai

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file turns raw document text into blocks (headings and paragraphs),
// paragraphs into sentences, and sentences into tokens. It knows enough
// Markdown to keep headings, lists and quotes apart and to skip code, and
// enough English to not split "Dr. Smith", "e.g. this" or "3.14".

// maxInputBytes bounds the text analysed: a book-length document (about
// 300,000 words) is read in full; anything longer is cut at a line break.
const maxInputBytes = 2 << 20

// block is a heading or a paragraph of the source.
type block struct {
	text    string
	heading bool
	level   int  // heading level, 1..6
	list    bool // a list item
}

// parseBlocks splits text into headings and paragraphs. Paragraph lines are
// joined with spaces; inline Markdown (emphasis, links, images) is reduced
// to its text.
func parseBlocks(text string) []block {
	text = normalizeText(text)
	lines := strings.Split(text, "\n")
	lineMode := lineParagraphs(lines)

	var (
		out    []block
		cur    []string
		curLst bool
		fence  string
	)
	flush := func() {
		if len(cur) == 0 {
			return
		}
		t := cleanInline(strings.Join(cur, " "))
		if hasWordRune(t) {
			out = append(out, block{text: t, list: curLst})
		}
		cur, curLst = cur[:0], false
	}
	for i, raw := range lines {
		line := strings.TrimRight(raw, " \t")
		trimmed := strings.TrimSpace(line)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			flush()
			fence = trimmed[:3]
			continue
		}
		if trimmed == "" {
			flush()
			continue
		}
		if lvl, h, ok := atxHeading(trimmed); ok {
			flush()
			if h = cleanInline(h); hasWordRune(h) {
				out = append(out, block{text: h, heading: true, level: lvl})
			}
			continue
		}
		if lvl, ok := setextUnderline(trimmed); ok && len(cur) == 1 && !curLst {
			h := cleanInline(cur[0])
			cur = cur[:0]
			if hasWordRune(h) {
				out = append(out, block{text: h, heading: true, level: lvl})
			}
			continue
		}
		if isRule(trimmed) || isTableRule(trimmed) || strings.HasPrefix(trimmed, "<!--") {
			flush()
			continue
		}
		for strings.HasPrefix(trimmed, ">") {
			trimmed = strings.TrimSpace(trimmed[1:])
		}
		if trimmed == "" {
			flush()
			continue
		}
		if strings.HasPrefix(trimmed, "|") {
			flush()
			cur = append(cur, tableRow(trimmed))
			curLst = true
			flush()
			continue
		}
		if item, ok := listItem(trimmed); ok {
			flush()
			cur = append(cur, item)
			curLst = true
			continue
		}
		if plainHeading(lines, i, trimmed, len(cur) == 0) {
			flush()
			out = append(out, block{text: cleanInline(trimmed), heading: true, level: 2})
			continue
		}
		cur = append(cur, trimmed)
		if lineMode {
			flush()
		}
	}
	flush()
	return out
}

// normalizeText makes text valid UTF-8 with \n line ends and no control
// characters, and caps its size.
func normalizeText(text string) string {
	if len(text) > maxInputBytes {
		cut := strings.LastIndexByte(text[:maxInputBytes], '\n')
		if cut < maxInputBytes/2 {
			cut = maxInputBytes
		}
		text = text[:cut]
	}
	text = strings.ToValidUTF8(text, "")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r' || r == '\u2028' || r == '\u2029' || r == '\v' || r == '\f':
			return '\n'
		case r == '\u00a0':
			return ' '
		case r == '\ufeff' || r == '\u200b' || r == '\u00ad':
			return -1
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, text)
}

// lineParagraphs reports whether the text puts one paragraph per line (no
// blank lines, long lines), as text extracted from office files often does,
// rather than hard-wrapping paragraphs.
func lineParagraphs(lines []string) bool {
	n, total := 0, 0
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			if i > 0 && i < len(lines)-1 && n > 0 {
				return false
			}
			continue
		}
		n++
		total += utf8.RuneCountInString(t)
	}
	return n > 1 && total/n > 100
}

func atxHeading(line string) (int, string, bool) {
	lvl := 0
	for lvl < len(line) && line[lvl] == '#' {
		lvl++
	}
	if lvl == 0 || lvl > 6 || lvl == len(line) || (line[lvl] != ' ' && line[lvl] != '\t') {
		return 0, "", false
	}
	h := strings.TrimSpace(line[lvl:])
	h = strings.TrimSpace(strings.TrimRight(h, "#"))
	return lvl, h, true
}

func setextUnderline(line string) (int, bool) {
	if len(line) < 2 {
		return 0, false
	}
	c := line[0]
	if c != '=' && c != '-' {
		return 0, false
	}
	if strings.Trim(line, string(c)) != "" {
		return 0, false
	}
	if c == '=' {
		return 1, true
	}
	return 2, true
}

func isRule(line string) bool {
	if c := line[0]; c != '-' && c != '*' && c != '_' && c != '=' {
		return false
	}
	s := strings.ReplaceAll(line, " ", "")
	if len(s) < 3 {
		return false
	}
	for _, c := range []string{"-", "*", "_", "="} {
		if strings.Trim(s, c) == "" {
			return true
		}
	}
	return false
}

func isTableRule(line string) bool {
	if !strings.HasPrefix(line, "|") {
		return false
	}
	return strings.Trim(line, "|-: \t") == ""
}

func tableRow(line string) string {
	cells := strings.Split(strings.Trim(line, "| \t"), "|")
	parts := cells[:0]
	for _, c := range cells {
		if c = strings.TrimSpace(c); c != "" {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, "; ")
}

// listItem returns the text of a bullet or numbered list item.
func listItem(line string) (string, bool) {
	if len(line) >= 2 && (line[0] == '-' || line[0] == '*' || line[0] == '+') && (line[1] == ' ' || line[1] == '\t') {
		return strings.TrimSpace(line[2:]), true
	}
	if strings.HasPrefix(line, "• ") {
		return strings.TrimSpace(line[len("• "):]), true
	}
	i := 0
	for i < len(line) && i < 3 && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(line) && (line[i] == '.' || line[i] == ')') && (line[i+1] == ' ' || line[i+1] == '\t') {
		return strings.TrimSpace(line[i+2:]), true
	}
	return "", false
}

// plainHeading recognises a heading in plain text: a short line on its own
// (blank lines around it), without closing punctuation, followed by text.
func plainHeading(lines []string, i int, line string, startOfParagraph bool) bool {
	if !startOfParagraph {
		return false
	}
	if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
		return false
	}
	if len(line) > 4*70 || utf8.RuneCountInString(line) > 70 || fieldsOver(line, 8) {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(line)
	if strings.ContainsRune(".!?:;,\"'”’)…。！？", last) {
		return false
	}
	first, _ := utf8.DecodeRuneInString(line)
	if !unicode.IsUpper(first) && !unicode.IsDigit(first) {
		return false
	}
	// Followed (after blank lines) by a paragraph, not by the end or another heading-like line.
	for j := i + 1; j < len(lines); j++ {
		t := strings.TrimSpace(lines[j])
		if t == "" {
			continue
		}
		if _, _, ok := atxHeading(t); ok {
			return false
		}
		return fieldsOver(t, 8)
	}
	return false
}

// fieldsOver reports whether s has more than n space-separated fields.
func fieldsOver(s string, n int) bool {
	fields, in := 0, false
	for _, r := range s {
		if isSpace(r) {
			in = false
			continue
		}
		if !in {
			if fields++; fields > n {
				return true
			}
		}
		in = true
	}
	return false
}

// cleanInline reduces inline Markdown to text and collapses whitespace.
func cleanInline(s string) string {
	if strings.Contains(s, "](") {
		s = stripLinks(s)
	}
	if strings.Contains(s, "**") {
		s = strings.ReplaceAll(s, "**", "")
	}
	if strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "")
	}
	return collapseSpaces(s)
}

// cleanText makes a parameter safe to show: valid UTF-8, no control
// characters, single spaces.
func cleanText(s string) string { return collapseSpaces(normalizeText(s)) }

// collapseSpaces trims s and turns each run of white space into one space.
func collapseSpaces(s string) string {
	clean, prevSpace := true, true
	for i := 0; i < len(s) && clean; i++ {
		c := s[i]
		space := c == ' '
		if c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c >= utf8.RuneSelf || (space && prevSpace) {
			clean = false
		}
		prevSpace = space
	}
	if clean && !prevSpace {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// stripLinks turns [text](url) into text and drops ![alt](url) images.
func stripLinks(s string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '[')
		if open < 0 {
			break
		}
		mid := strings.Index(s[open:], "](")
		if mid < 0 {
			break
		}
		mid += open
		end := strings.IndexByte(s[mid:], ')')
		if end < 0 || strings.IndexByte(s[open+1:mid], '[') >= 0 {
			b.WriteString(s[:open+1])
			s = s[open+1:]
			continue
		}
		end += mid
		image := open > 0 && s[open-1] == '!'
		if image {
			b.WriteString(s[:open-1])
		} else {
			b.WriteString(s[:open])
			b.WriteString(s[open+1 : mid])
		}
		s = s[end+1:]
	}
	b.WriteString(s)
	return b.String()
}

func hasWordRune(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// Sentence splitting.

// titleAbbrevs precede a name or number, so a period after them never ends
// a sentence.
var titleAbbrevs = setOf("mr", "mrs", "ms", "dr", "prof", "sr", "st", "mt", "gen", "col", "capt", "lt",
	"sgt", "rev", "hon", "gov", "sen", "rep", "pres", "fig", "figs", "no", "nos", "vol", "vols", "pp", "p",
	"ch", "sec", "art", "eq", "ref", "vs", "approx", "dept", "est", "ave", "blvd", "jan", "feb", "mar",
	"apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "cf", "viz", "al")

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func isTerminator(r rune) bool {
	switch r {
	case '.', '!', '?', '…', '。', '！', '？', '‼', '⁇', '⁈', '⁉':
		return true
	}
	return false
}

func isCJKTerminator(r rune) bool { return r == '。' || r == '！' || r == '？' }

func isCloser(r rune) bool {
	switch r {
	case '"', '\'', '”', '’', '»', ')', ']', '」', '』', '）', '】', '*', '_':
		return true
	}
	return false
}

func isOpener(r rune) bool {
	switch r {
	case '"', '\'', '“', '‘', '«', '(', '[', '「', '『', '（', '【', '*', '_', '¿', '¡':
		return true
	}
	return false
}

// maxQuotedSentence bounds how far a double quote holds a sentence
// together, so an unbalanced quote can't swallow a paragraph.
const maxQuotedSentence = 400

// splitSentences splits one paragraph into sentences. A quotation of
// several sentences stays in one piece.
func splitSentences(p string) []string {
	var out []string
	start := 0
	quoted := false // inside a double-quoted passage
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRuneInString(p[i:])
		switch r {
		case '"':
			quoted = !quoted
		case '“':
			quoted = true
		case '”':
			quoted = false
		}
		if !isTerminator(r) {
			i += size
			continue
		}
		j := i + size
		single := r == '.'
		for j < len(p) {
			r2, s2 := utf8.DecodeRuneInString(p[j:])
			if !isTerminator(r2) {
				break
			}
			single = false
			j += s2
		}
		for j < len(p) {
			r2, s2 := utf8.DecodeRuneInString(p[j:])
			if !isCloser(r2) {
				break
			}
			switch r2 {
			case '"':
				quoted = !quoted
			case '”':
				quoted = false
			}
			j += s2
		}
		if j >= len(p) {
			break
		}
		next, _ := utf8.DecodeRuneInString(p[j:])
		if (!isCJKTerminator(r) && !isSpace(next)) || (quoted && j-start < maxQuotedSentence) {
			i = j
			continue
		}
		if sentenceBreak(p, start, i, j, single) {
			if s := strings.TrimSpace(p[start:j]); s != "" {
				out = append(out, s)
			}
			start = j
			quoted = false
		}
		i = j
	}
	if s := strings.TrimSpace(p[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// sentenceBreak decides whether the terminator at p[at] (ending at p[end])
// ends the sentence that began at p[start].
func sentenceBreak(p string, start, at, end int, singlePeriod bool) bool {
	k := end
	for k < len(p) {
		r, s := utf8.DecodeRuneInString(p[k:])
		if !isSpace(r) && !isOpener(r) {
			if unicode.IsLower(r) {
				return false // "e.g. this", "... and then"
			}
			break
		}
		k += s
	}
	if !singlePeriod {
		return true
	}
	// The word before the period.
	w := p[start:at]
	if sp := strings.LastIndexFunc(w, isSpace); sp >= 0 {
		w = w[sp+1:]
	}
	w = strings.TrimLeftFunc(w, isOpener)
	if w == "" {
		return true
	}
	if titleAbbrevs[strings.ToLower(w)] {
		return false
	}
	if utf8.RuneCountInString(w) == 1 {
		r, _ := utf8.DecodeRuneInString(w)
		return !unicode.IsUpper(r) // an initial: "J. Smith"
	}
	// Dotted abbreviations ("U.S.", "a.m.") rarely end a sentence.
	return !dottedAbbrev(w)
}

// dottedAbbrev reports whether w is letters separated by dots, one or two
// at a time: "U.S", "a.m", "Ph.D".
func dottedAbbrev(w string) bool {
	if !strings.Contains(w, ".") {
		return false
	}
	for _, piece := range strings.Split(w, ".") {
		n := utf8.RuneCountInString(piece)
		if n == 0 || n > 2 || !hasLetter(piece) || strings.IndexFunc(piece, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
			return false
		}
	}
	return true
}

// Tokens.

// token is one word of a sentence.
type token struct {
	surface string // as written
	lower   string
	stem    string // "" for a stop word
	stop    bool
	cjk     bool
	// breakBefore: punctuation separates this token from the previous one,
	// so the two don't form a phrase.
	breakBefore bool
	// id is the term of a content token, -1 for a stop word (set by
	// analyze).
	id int32
}

func isCJK(r rune) bool {
	if r < 0x2E80 { // below the CJK radicals: Latin, Greek, Cyrillic, ...
		return false
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// isSpace is unicode.IsSpace with a fast path for ASCII.
func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || '\t' <= r && r <= '\r'
	}
	return unicode.IsSpace(r)
}

// tokenize splits a sentence into word tokens. Runs of CJK characters,
// written without spaces, become overlapping character bigrams.
func tokenize(s string, buf []token) []token {
	out := buf[:0]
	brk := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isCJK(r):
			j := i
			var runes []int
			for j < len(s) {
				r2, s2 := utf8.DecodeRuneInString(s[j:])
				if !isCJK(r2) {
					break
				}
				runes = append(runes, j)
				j += s2
			}
			runes = append(runes, j)
			if len(runes) == 2 {
				w := s[runes[0]:runes[1]]
				out = append(out, token{surface: w, lower: w, stem: w, cjk: true, breakBefore: brk, stop: cjkStop[w]})
			}
			for k := 0; k+2 < len(runes); k++ {
				w := s[runes[k]:runes[k+2]]
				out = append(out, token{surface: w, lower: w, stem: w, cjk: true, breakBefore: brk || k > 0})
			}
			brk = false
			i = j
		case isWordRune(r):
			j := i + size
			for j < len(s) {
				r2, s2 := utf8.DecodeRuneInString(s[j:])
				if isWordRune(r2) && !isCJK(r2) {
					j += s2
					continue
				}
				if (r2 == '\'' || r2 == '’' || r2 == '-') && j+s2 < len(s) {
					r3, _ := utf8.DecodeRuneInString(s[j+s2:])
					if isWordRune(r3) && !isCJK(r3) {
						j += s2
						continue
					}
				}
				break
			}
			w := s[i:j]
			if strings.ContainsRune(w, '’') {
				w = strings.ReplaceAll(w, "’", "'")
			}
			lw := strings.ToLower(w)
			tok := token{surface: w, lower: lw, stop: stopWords[lw] || !hasLetter(lw), breakBefore: brk}
			if !tok.stop {
				tok.stem = stem(lw) // stop words are never terms
			}
			out = append(out, tok)
			brk = false
			i = j
		default:
			if !isSpace(r) {
				brk = true
			}
			i += size
		}
	}
	return out
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// cjkStop holds single CJK characters too common to be terms.
var cjkStop = setOf("的", "了", "是", "在", "和", "也", "有", "我", "你", "他", "她", "它", "们", "这", "那", "就", "都", "而", "及", "与", "或", "の", "に", "は", "を", "が", "と", "で", "た", "し", "て")

// stem is a light English suffix stripper: enough to make "teams",
// "team's" and "team", or "meeting" and "meetings", one term. Its output is
// only ever used as a key, never shown.
func stem(w string) string {
	if len(w) <= 3 || w[len(w)-1] >= utf8.RuneSelf {
		return w
	}
	if strings.HasSuffix(w, "'s") {
		w = w[:len(w)-2]
	} else if strings.HasSuffix(w, "s'") {
		w = w[:len(w)-1]
	}
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		w = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ss") || strings.HasSuffix(w, "us") || strings.HasSuffix(w, "is"):
	case len(w) > 3 && strings.HasSuffix(w, "s"):
		w = w[:len(w)-1]
	}
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ing") && hasVowel(w[:len(w)-3]):
		w = undouble(w[:len(w)-3])
	case len(w) > 4 && strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed") && hasVowel(w[:len(w)-2]):
		w = undouble(w[:len(w)-2])
	}
	if len(w) > 4 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	if len(w) > 3 && strings.HasSuffix(w, "y") {
		w = w[:len(w)-1] + "i"
	}
	return w
}

func hasVowel(s string) bool { return strings.ContainsAny(s, "aeiouy") }

func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeioulsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

// countWords counts the words of s the way a reader would: whitespace
// separated runs that contain a letter or digit (Markdown markers such as
// "#" or "-" don't count).
func countWords(s string) int {
	n := 0
	in, word := false, false
	for _, r := range s {
		if isSpace(r) {
			if in && word {
				n++
			}
			in, word = false, false
			continue
		}
		in = true
		if !word && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			word = true
		}
	}
	if in && word {
		n++
	}
	return n
}

// stopWords are English function words and filler that carry no topic.
var stopWords = setOf(
	"a", "about", "above", "after", "again", "against", "all", "almost", "along", "already", "also", "although",
	"always", "am", "among", "an", "and", "another", "any", "anyone", "anything", "are", "aren't", "around", "as",
	"at", "away", "back", "be", "became", "because", "become", "becomes", "been", "before", "being", "below",
	"best", "better", "between", "both", "but", "by", "came", "can", "can't", "cannot", "come", "comes", "could",
	"couldn't", "did", "didn't", "do", "does", "doesn't", "doing", "don't", "done", "down", "during", "each",
	"either", "else", "enough", "etc", "even", "ever", "every", "everyone", "everything", "far", "few", "find",
	"first", "for", "from", "further", "get", "gets", "getting", "give", "given", "go", "goes", "going", "gone",
	"got", "had", "hadn't", "has", "hasn't", "have", "haven't", "having", "he", "he'd", "he'll", "he's", "her",
	"here", "here's", "hers", "herself", "him", "himself", "his", "how", "how's", "however", "i", "i'd", "i'll",
	"i'm", "i've", "if", "in", "instead", "into", "is", "isn't", "it", "it's", "its", "itself", "just", "keep",
	"know", "last", "least", "less", "let", "let's", "like", "likely", "lot", "lots", "made", "make", "makes",
	"making", "many", "may", "maybe", "me", "might", "more", "most", "mostly", "much", "must", "mustn't", "my",
	"myself", "need", "needs", "never", "new", "next", "no", "nor", "not", "now", "of", "off", "often", "on",
	"once", "one", "only", "or", "other", "others", "otherwise", "ought", "our", "ours", "ourselves", "out",
	"over", "own", "perhaps", "put", "quite", "rather", "really", "said", "same", "say", "says", "see", "seem",
	"seems", "several", "shall", "shan't", "she", "she'd", "she'll", "she's", "should", "shouldn't", "since",
	"so", "some", "someone", "something", "sometimes", "still", "such", "take", "takes", "than", "that",
	"that's", "the", "their", "theirs", "them", "themselves", "then", "there", "there's", "these", "they",
	"they'd", "they'll", "they're", "they've", "thing", "things", "this", "those", "though", "through", "thus",
	"to", "together", "too", "toward", "towards", "two", "under", "until", "up", "upon", "us", "use", "used",
	"uses", "using", "very", "via", "want", "wants", "was", "wasn't", "way", "ways", "we", "we'd", "we'll",
	"we're", "we've", "well", "went", "were", "weren't", "what", "what's", "whatever", "when", "when's",
	"where", "where's", "whether", "which", "while", "who", "who's", "whom", "whose", "why", "why's", "will",
	"with", "within", "without", "won't", "would", "wouldn't", "yet", "you", "you'd", "you'll", "you're",
	"you've", "your", "yours", "yourself", "yourselves", "three", "four", "five", "six", "seven", "eight",
	"nine", "ten", "yes", "ok", "okay", "via", "per", "upon", "onto", "whereas", "within", "across", "able",
	"actually", "certain", "clearly", "simply", "whole", "large", "small", "big", "good", "great", "little",
	"long", "high", "low", "different", "important", "real", "right", "sure", "true", "year", "years",
	"today", "times", "day", "days", "week", "weeks", "month", "months", "kind", "part", "point",
	"look", "looks", "looking", "tell", "told", "think", "thought", "mean", "means",
	"e.g", "i.e", "vs", "mr", "mrs", "ms", "dr",
	// The commonest function words of French, Spanish, German and
	// Portuguese, so mixed-language text doesn't make "#Les" a hashtag.
	"le", "la", "les", "un", "une", "des", "du", "de", "et", "est", "sont", "ont", "pour", "dans", "avec", "que",
	"qui", "sur", "par", "pas", "plus", "ne", "se", "ce", "ces", "leur", "leurs", "très", "même", "aux", "au",
	"el", "los", "las", "una", "para", "con", "por", "del", "es", "lo", "como", "más", "pero", "sus", "su",
	"der", "die", "das", "und", "ist", "nicht", "mit", "den", "dem", "ein", "eine", "auf", "für", "sich", "von",
	"zu", "im", "auch", "em", "os", "as", "uma", "não", "mais", "ao", "à", "é", "ça",
)

// genericWords are common nouns and adjectives that make weak key terms
// ("#Work", "#Office"): they still count for sentence scores, but rank
// lower as key terms, labels and hashtags.
var genericWords = setOf("work", "company", "companies", "office", "people", "person", "result", "change",
	"problem", "place", "case", "group", "level", "area", "fact", "idea", "issue", "side", "member", "home",
	"process", "question", "reason", "hour", "end", "state", "world", "life", "hand", "information", "example",
	"order", "course", "form", "line", "job", "effort", "value", "effect", "type", "matter", "step", "task",
	"list", "set", "number", "amount", "half", "range", "rate", "start", "need", "team", "time", "measure",
	"main", "major", "key", "clear", "simple", "free", "full", "early", "late", "later", "small", "short",
	"hard", "easy", "possible", "available", "common", "general", "specific", "particular", "similar",
	"final", "single", "whole", "entire", "own", "lesson", "area", "thing", "everyone", "something",
	"experience", "approach", "question", "answer", "option", "choice", "decision", "practice", "result",
	"outcome", "quality", "story", "moment", "minute", "second", "percent", "share", "spend", "feel",
	"felt", "show", "shows", "turn", "turned", "found", "learn", "learned", "tried", "try")

// genericStems are the stems of genericWords.
var genericStems = func() map[string]bool {
	m := make(map[string]bool, len(genericWords))
	for w := range genericWords {
		m[stem(w)] = true
	}
	return m
}()

// verbPlurals are words whose "s" form is usually a verb ("works"), so a
// key term keeps its singular form.
var verbPlurals = setOf("work", "need", "use", "help", "show", "feel", "look", "make", "take", "run", "start",
	"turn", "matter", "mean", "lead", "support", "report", "result", "change")

// participles are irregular past participles, weak as topics ("written").
var participles = setOf("written", "taken", "given", "spoken", "broken", "chosen", "known", "shown", "grown",
	"driven", "hidden", "forgotten", "gotten", "begun", "done", "seen", "become", "left", "felt", "built", "made",
	"kept", "held", "brought", "thought", "bought", "sent", "spent", "told", "found", "put", "set")

// nounLike guesses whether a word can name a topic on its own: words with
// adverb, adjective or participle endings ("quickly", "productive",
// "written") make poor topics and hashtags.
func nounLike(w string) bool {
	l := strings.ToLower(w)
	if participles[l] {
		return false
	}
	if len(l) <= 4 {
		return true
	}
	for _, suf := range []string{"ly", "ed", "ous", "ful", "ive", "able", "ible", "less", "est", "ish"} {
		if strings.HasSuffix(l, suf) {
			return false
		}
	}
	return true
}

// massNouns read well without a plural ("about trust").
var massNouns = setOf("trust", "work", "feedback", "information", "advice", "research", "knowledge", "data",
	"time", "money", "progress", "software", "hardware", "equipment", "evidence", "health", "safety", "privacy",
	"quality", "security", "code", "documentation", "staff", "traffic", "content", "music", "water", "energy",
	"food", "news", "art", "history", "science", "math", "weather", "luck", "fun", "help", "education", "growth",
	"revenue", "infrastructure", "tooling", "writing", "communication", "ownership", "leadership", "marketing")

// asTopic makes a key term read well in running text ("Let's talk about
// …"): a bare singular count noun becomes plural ("incident" ->
// "incidents"); plurals, gerunds, mass nouns, names and CJK are kept.
func asTopic(t string) string {
	last := t[strings.LastIndexByte(t, ' ')+1:]
	l := strings.ToLower(last)
	r, _ := utf8.DecodeRuneInString(last)
	switch {
	case last == "" || l != last || !unicode.IsLetter(r) || isCJK(r) || r >= 0x0250:
		return t // a name, an acronym, a number, or a non-Latin script
	case len(l) < 3 || massNouns[l] || !nounLike(l):
		return t
	case strings.HasSuffix(l, "s") || strings.HasSuffix(l, "ing"):
		return t
	}
	for _, suf := range []string{"tion", "sion", "ity", "ness", "ment", "ism", "ware", "ance", "ence", "ship", "dom", "ics", "ure", "age", "ledge", "ery"} {
		if strings.HasSuffix(l, suf) {
			return t
		}
	}
	switch {
	case strings.HasSuffix(l, "y") && len(l) > 2 && !strings.ContainsRune("aeiou", rune(l[len(l)-2])):
		return t[:len(t)-1] + "ies"
	case strings.HasSuffix(l, "x") || strings.HasSuffix(l, "z") || strings.HasSuffix(l, "ch") || strings.HasSuffix(l, "sh"):
		return t + "es"
	}
	return t + "s"
}
