package localai

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/ports"
)

// platform is how posts are shaped for one network.
type platform struct {
	limit   int  // most characters of a post (runes)
	tags    int  // hashtags per post
	support int  // sentences added after the main one
	ask     bool // end on a question to invite replies
	save    bool // instagram's "save this" line
	inline  bool // hook and text on one line (twitter)
}

var platforms = map[string]platform{
	"twitter":   {limit: transform.TwitterLimit, tags: 3, support: 1, inline: true},
	"linkedin":  {limit: 3000, tags: 3, support: 2, ask: true},
	"instagram": {limit: 2200, tags: 5, support: 2, save: true},
	"facebook":  {limit: 2000, tags: 2, support: 1, ask: true},
	"threads":   {limit: 500, tags: 2, support: 1},
}

var saveLines = []string{"Save this post for later.", "Share this with someone who needs it.", "Save this and come back to it."}

// dependentStarts open sentences that lean on the one before; they make
// weak stand-alone posts.
var dependentStarts = setOf("this", "these", "that", "those", "it", "its", "they", "them", "he", "she", "however",
	"but", "and", "so", "also", "then", "thus", "therefore", "moreover", "furthermore", "such", "there", "here",
	"instead", "still", "yet", "or", "because", "which", "as", "both", "another", "other", "others", "again")

func dependent(s *sentence) bool {
	return len(s.toks) > 0 && dependentStarts[s.toks[0].lower]
}

// socialPosts writes post_count posts, each around a different high-scoring
// sentence, opened by a hook in the requested tone, closed by hashtags from
// the document's key terms, and kept within the platform's limit.
func socialPosts(d *doc, p params) output {
	plat, ok := platforms[p.str("platform")]
	if !ok {
		plat = platforms["linkedin"]
	}
	count := p.integer("post_count")
	tn := toneFor(p.str("tone"), "engaging")
	withTags := p.boolean("hashtags")
	seed := seedOf(p.str("tone"), d.sents[0].text)

	mains := d.pick(d.all(), count, nil, nil, func(i int) float64 {
		s := &d.sents[i]
		w := s.score
		if dependent(s) {
			w *= 0.6
		}
		if s.list {
			w *= 0.85
		}
		return w
	})
	used := make([]bool, len(d.sents))
	for _, i := range mains {
		used[i] = true
	}
	cands := d.tagCandidates()
	parts := make([]ports.AIPart, count)
	for n := range count {
		main := mains[n%len(mains)]
		support := d.supporting(main, plat.support, used)
		topic := d.topic(main)
		post := socialPost(d, plat, tn, seed, n, main, support, topic, withTags, cands)
		parts[n] = ports.AIPart{Title: fmt.Sprintf("Post %d", n+1), Body: post}
	}
	return output{text: joinParts("", parts, nil), parts: parts}
}

// supporting returns up to n sentences to follow main: the rest of its
// paragraph, else the best unused sentences of its section. It marks them
// used.
func (d *doc) supporting(main, n int, used []bool) []int {
	var out []int
	for i := main + 1; i < len(d.sents) && len(out) < n; i++ {
		if d.sents[i].para != d.sents[main].para {
			break
		}
		if used[i] {
			continue
		}
		out = append(out, i)
	}
	if len(out) < n {
		sec := d.secs[d.sents[main].sec]
		pool := make([]int, 0, sec.hi-sec.lo)
		for i := sec.lo; i < sec.hi; i++ {
			if i != main && !slices.Contains(out, i) {
				pool = append(pool, i)
			}
		}
		out = append(out, d.pick(pool, n-len(out), used, out, func(i int) float64 {
			return 0.5*d.sents[i].score + d.cosine(i, main)
		})...)
	}
	for _, i := range out {
		used[i] = true
	}
	slices.Sort(out)
	return out
}

func socialPost(d *doc, plat platform, tn tone, seed uint32, n, main int, support []int, topic string, withTags bool, cands []tagCand) string {
	hook := fill(choose(tn.hooks, seed, n), topic)
	tagLine := ""
	if withTags {
		ids := append([]int{main}, support...)
		tags := d.postTags(cands, ids, plat.tags)
		tagLine = strings.Join(tags, " ")
		for len(tags) > 2 && plat.limit > 0 && runes(tagLine) > plat.limit/4 {
			tags = tags[:len(tags)-1]
			tagLine = strings.Join(tags, " ")
		}
	}
	avail := plat.limit
	if tagLine != "" {
		avail -= runes(tagLine) + 2
	}
	mainText := d.sents[main].text

	if plat.inline {
		body := hook + " " + mainText
		if runes(body) > avail {
			body = mainText
		}
		if runes(body) > avail {
			body = trimToRunes(mainText, avail)
		} else {
			for _, i := range support {
				if next := body + " " + d.sents[i].text; runes(next) <= avail {
					body = next
				}
			}
		}
		return joinNonEmpty("\n\n", body, tagLine)
	}

	var question, save string
	if plat.ask {
		question = fill(choose(tn.questions, seed, n), topic)
	}
	if plat.save {
		save = choose(saveLines, seed, n)
	}
	build := func(sup []int, withHook bool) string {
		lines := make([]string, 0, 4+len(sup))
		if withHook {
			lines = append(lines, hook)
		}
		if plat.support > 1 {
			lines = append(lines, mainText)
			for _, i := range sup {
				lines = append(lines, d.sents[i].text)
			}
		} else {
			lines = append(lines, d.joinSentences(append([]int{main}, sup...)))
		}
		lines = append(lines, question, save)
		return joinNonEmpty("\n\n", lines...)
	}
	body := build(support, true)
	for k := len(support); k > 0 && runes(body) > avail; k-- {
		body = build(support[:k-1], true)
	}
	if runes(body) > avail {
		body = build(nil, false)
	}
	if runes(body) > avail {
		body = trimToRunes(mainText, avail)
	}
	return joinNonEmpty("\n\n", body, tagLine)
}

func joinNonEmpty(sep string, parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// tagCand is a possible hashtag: a key phrase or key term.
type tagCand struct {
	tag string
	ids []int32
}

// maxTagRunes keeps hashtags readable (and twitter posts mostly text).
const maxTagRunes = 24

// tagCandidates lists hashtags from the top key phrases and key terms,
// strongest first, without duplicates.
func (d *doc) tagCandidates() []tagCand {
	type scored struct {
		c tagCand
		w float64
	}
	var all []scored
	for pi, p := range d.phrases {
		if pi >= 8 {
			break
		}
		if len(p.ids) > 2 || (p.count < 3 && len(d.sents) >= 40) {
			continue
		}
		if tag := hashtag(p.display); tag != "" {
			all = append(all, scored{tagCand{tag, p.ids}, p.score / 2})
		}
	}
	for k, id := range d.keyTerms {
		if k >= 20 {
			break
		}
		t := &d.terms[id]
		if !t.showable() {
			continue
		}
		if !nounLike(t.display) || genericStems[t.stem] {
			continue
		}
		if tag := hashtag(t.display); tag != "" {
			all = append(all, scored{tagCand{tag, []int32{id}}, t.weight})
		}
	}
	slices.SortStableFunc(all, func(a, b scored) int {
		switch {
		case a.w > b.w:
			return -1
		case a.w < b.w:
			return 1
		}
		return strings.Compare(a.c.tag, b.c.tag)
	})
	seen := map[string]bool{}
	out := make([]tagCand, 0, len(all))
	for _, s := range all {
		key := strings.ToLower(s.c.tag)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, s.c)
	}
	return out
}

// fallbackTags complete the hashtags of a document too short to have
// enough key terms of its own.
var fallbackTags = []string{"#Insights", "#Ideas", "#Learning"}

// postTags picks n hashtags for a post made of sentences ids: candidates
// the post mentions first, then the document's strongest; never a term
// already inside a chosen phrase. At least two whenever n >= 2.
func (d *doc) postTags(cands []tagCand, ids []int, n int) []string {
	var out []string
	covered := map[int32]bool{}
	seen := map[string]bool{}
	add := func(c tagCand) {
		if len(out) >= n || seen[strings.ToLower(c.tag)] {
			return
		}
		for _, prev := range out {
			if r, _ := utf8.DecodeRuneInString(c.tag[1:]); isCJK(r) && sharesRune(prev, c.tag[1:]) {
				return // overlapping bigrams of one CJK word
			}
		}
		if len(c.ids) > 0 {
			all := true
			for _, id := range c.ids {
				all = all && covered[id]
			}
			if all {
				return
			}
		}
		for _, id := range c.ids {
			covered[id] = true
		}
		seen[strings.ToLower(c.tag)] = true
		out = append(out, c.tag)
	}
	mentions := func(c tagCand) bool {
		for _, i := range ids {
			if d.hasTerms(i, c.ids) {
				return true
			}
		}
		return false
	}
	for _, c := range cands {
		if mentions(c) {
			add(c)
		}
	}
	for _, c := range cands {
		add(c)
	}
	for _, w := range strings.Fields(d.title) {
		if len(out) >= min(n, 2) {
			break
		}
		if stopWords[strings.ToLower(w)] {
			continue
		}
		if tag := hashtag(w); tag != "" {
			add(tagCand{tag: tag})
		}
	}
	for _, tag := range fallbackTags {
		if len(out) >= min(n, 2) {
			break
		}
		add(tagCand{tag: tag})
	}
	return out
}

// hashtag turns a term or phrase into #CamelCase, keeping acronyms; "" when
// nothing usable remains.
func hashtag(s string) string {
	var b strings.Builder
	b.WriteByte('#')
	letters := 0
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) }) {
		w = capitalize(w)
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters++
			}
			b.WriteRune(r)
		}
	}
	tag := b.String()
	if letters == 0 || runes(tag)-1 < 2 || runes(tag)-1 > maxTagRunes {
		return ""
	}
	return tag
}
