package localai

import (
	"hash/fnv"
	"strings"
	"unicode/utf8"
)

// tone is one row of the phrasing tables: the words a generator adds around
// the document's own sentences. {t} is replaced by a topic.
type tone struct {
	hooks     []string // opening line of a social post
	questions []string // closing line of a linkedin/facebook post
	greeting  string   // first line of an email
	signOff   string   // last line of an email
	subjects  []string // email subjects
	intro     []string // blog/newsletter framing: {t} is a list of topics
	closing   []string // blog/newsletter closing line
}

// tones maps a tone family to its phrasing; toneFor picks the family from
// the free-text tone parameter.
var tones = map[string]tone{
	"engaging": {
		hooks:     []string{"Here's something worth knowing about {t}:", "Ever stopped to think about {t}?", "Let's talk about {t}.", "This changes how you see {t}:"},
		questions: []string{"What's your take on {t}?", "How does this match your experience with {t}?", "Would this work for you?"},
		greeting:  "Hi there,", signOff: "Talk soon,",
		subjects: []string{"Let's talk about {t}", "What you should know about {t}", "A fresh look at {t}", "The story behind {t}"},
		intro:    []string{"Here's what we'll dig into: {t}."},
		closing:  []string{"That's the big picture on {t}. What will you try first?"},
	},
	"professional": {
		hooks:     []string{"Key insight on {t}:", "A point worth considering on {t}:", "What matters about {t}:", "One takeaway on {t}:"},
		questions: []string{"How is your organisation approaching {t}?", "What has your experience with {t} been?", "I'd welcome your perspective on this."},
		greeting:  "Hello,", signOff: "Best regards,",
		subjects: []string{"{t}: what you need to know", "A closer look at {t}", "{t}, explained", "Key points on {t}"},
		intro:    []string{"This post covers {t}."},
		closing:  []string{"These are the points on {t} worth keeping in mind."},
	},
	"casual": {
		hooks:     []string{"Quick thought on {t}:", "So, about {t}.", "Been thinking about {t} lately.", "Okay, real talk about {t}:"},
		questions: []string{"What do you think?", "Anyone else seeing this with {t}?", "Sound familiar?"},
		greeting:  "Hey there,", signOff: "Cheers,",
		subjects: []string{"Quick note on {t}", "Let's talk {t}", "More on {t}", "One more thing about {t}"},
		intro:    []string{"Here's the plan: {t}."},
		closing:  []string{"That's the gist on {t}."},
	},
	"friendly": {
		hooks:     []string{"Sharing a thought on {t}:", "A little something about {t}:", "Happy to share this on {t}:"},
		questions: []string{"I'd love to hear how {t} looks for you.", "What would you add?"},
		greeting:  "Hi there,", signOff: "Warmly,",
		subjects: []string{"A friendly note on {t}", "Thinking about {t}", "More on {t}", "Notes on {t}"},
		intro:    []string{"Let's walk through {t} together."},
		closing:  []string{"Thanks for reading along; we hope these notes on {t} help."},
	},
	"informative": {
		hooks:     []string{"Worth knowing about {t}:", "A quick explainer on {t}:", "The facts on {t}:", "What to know about {t}:"},
		questions: []string{"What questions do you have about {t}?", "What would you like to learn next about {t}?"},
		greeting:  "Hello,", signOff: "Best,",
		subjects: []string{"Understanding {t}", "{t}: the key facts", "What to know about {t}", "{t}, in brief"},
		intro:    []string{"In this issue: {t}."},
		closing:  []string{"Those are the essentials on {t}."},
	},
	"enthusiastic": {
		hooks:     []string{"Exciting times for {t}!", "Love this point about {t}!", "This is big for {t}!"},
		questions: []string{"Who else is excited about {t}?", "What's got you excited about {t}?"},
		greeting:  "Hi there!", signOff: "Can't wait to hear from you,",
		subjects: []string{"Big news on {t}!", "You'll love this about {t}", "More great news on {t}", "Don't miss this on {t}"},
		intro:    []string{"We're excited to dig into {t}!"},
		closing:  []string{"There's a lot to look forward to with {t}!"},
	},
	"inspirational": {
		hooks:     []string{"A reminder about {t} worth sharing:", "Food for thought on {t}:", "Let this one sink in:"},
		questions: []string{"What will you do differently?", "What's one step you can take on {t} today?"},
		greeting:  "Hello,", signOff: "Keep going,",
		subjects: []string{"A new way to see {t}", "Small steps on {t}", "What {t} can teach us", "Your next step on {t}"},
		intro:    []string{"Let's explore {t}, and what it can mean for you."},
		closing:  []string{"Every change starts with a first step; {t} is a good place to begin."},
	},
	"humorous": {
		hooks:     []string{"Plot twist about {t}:", "Nobody warned us about {t}, so here goes:", "Hot take on {t} (hold my coffee):"},
		questions: []string{"Tell me I'm not the only one.", "Who's with me on {t}?"},
		greeting:  "Hey you,", signOff: "Stay curious (and caffeinated),",
		subjects: []string{"{t}, but make it fun", "You won't believe this about {t}", "More {t}, fewer headaches", "The truth about {t}"},
		intro:    []string{"Grab a coffee: we're taking on {t}."},
		closing:  []string{"And that, friends, is {t} in a nutshell."},
	},
	"authoritative": {
		hooks:     []string{"The bottom line on {t}:", "One thing is clear about {t}:", "Here's what matters on {t}:"},
		questions: []string{"Where does your team stand on {t}?", "Is your approach to {t} keeping up?"},
		greeting:  "Hello,", signOff: "Regards,",
		subjects: []string{"The case for {t}", "{t}: the evidence", "Getting {t} right", "Acting on {t}"},
		intro:    []string{"This post sets out the essentials: {t}."},
		closing:  []string{"The evidence on {t} points one way; act on it."},
	},
	"urgent": {
		hooks:     []string{"Don't overlook this about {t}:", "Time to pay attention to {t}:", "This can't wait: {t}."},
		questions: []string{"Is your team ready?", "What's stopping you from acting on {t}?"},
		greeting:  "Hello,", signOff: "Act now,",
		subjects: []string{"Action needed: {t}", "Don't miss this on {t}", "Time-sensitive: {t}", "Priority: {t}"},
		intro:    []string{"Here's what needs your attention now: {t}."},
		closing:  []string{"Don't wait on {t}."},
	},
	"neutral": {
		hooks:     []string{"On {t}:", "A note on {t}:", "About {t}:"},
		questions: []string{"Thoughts?", "What is your view on {t}?"},
		greeting:  "Hello,", signOff: "Regards,",
		subjects: []string{"On {t}", "Notes on {t}", "About {t}", "More on {t}"},
		intro:    []string{"This covers {t}."},
		closing:  []string{"That concludes the overview of {t}."},
	},
	"persuasive": {
		hooks:     []string{"Here's why {t} matters:", "Consider this about {t}:", "If you care about {t}, read this:"},
		questions: []string{"Convinced? Tell me why or why not.", "What would it take to change your mind on {t}?"},
		greeting:  "Hi,", signOff: "Best,",
		subjects: []string{"Why {t} matters", "The case for {t}", "What {t} means for you", "Ready to act on {t}?"},
		intro:    []string{"Here's the case for {t}."},
		closing:  []string{"The case for {t} is strong."},
	},
}

// toneWords maps words of the tone parameter to a family, in order.
var toneWords = []struct{ word, family string }{
	{"profession", "professional"}, {"formal", "professional"}, {"business", "professional"}, {"corporate", "professional"},
	{"casual", "casual"}, {"relax", "casual"}, {"laid", "casual"}, {"conversation", "casual"}, {"chill", "casual"},
	{"friend", "friendly"}, {"warm", "friendly"}, {"empath", "friendly"}, {"kind", "friendly"},
	{"inform", "informative"}, {"educat", "informative"}, {"explan", "informative"}, {"instruct", "informative"}, {"technical", "informative"},
	{"enthusias", "enthusiastic"}, {"excit", "enthusiastic"}, {"energ", "enthusiastic"}, {"upbeat", "enthusiastic"}, {"positive", "enthusiastic"},
	{"inspir", "inspirational"}, {"motivat", "inspirational"}, {"uplift", "inspirational"},
	{"humor", "humorous"}, {"humour", "humorous"}, {"funny", "humorous"}, {"witty", "humorous"}, {"playful", "humorous"},
	{"authorit", "authoritative"}, {"expert", "authoritative"}, {"confident", "authoritative"}, {"assertive", "authoritative"},
	{"urgent", "urgent"}, {"urgency", "urgent"}, {"direct", "urgent"},
	{"neutral", "neutral"}, {"objective", "neutral"}, {"factual", "neutral"},
	{"persua", "persuasive"}, {"convinc", "persuasive"}, {"sales", "persuasive"},
	{"engag", "engaging"},
}

// toneFor picks the phrasing for a tone parameter; def when no word of it
// is known.
func toneFor(s, def string) tone {
	l := strings.ToLower(s)
	for _, tw := range toneWords {
		if strings.Contains(l, tw.word) {
			return tones[tw.family]
		}
	}
	return tones[def]
}

// choose picks one of options deterministically from a seed and an offset,
// so consecutive offsets give different options.
func choose(options []string, seed uint32, offset int) string {
	if len(options) == 0 {
		return ""
	}
	return options[(int(seed%uint32(len(options)))+offset)%len(options)]
}

// seedOf hashes strings into a seed.
func seedOf(parts ...string) uint32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum32()
}

// fill puts topic into a template, capitalising a leading placeholder.
func fill(tmpl, topic string) string {
	if strings.HasPrefix(tmpl, "{t}") {
		return capitalize(strings.Replace(tmpl, "{t}", topic, 1))
	}
	return strings.ReplaceAll(tmpl, "{t}", topic)
}

// listPhrase joins items as "a, b and c".
func listPhrase(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// trimToRunes cuts s to at most n runes at a word boundary, ending it with
// an ellipsis when anything was cut. Text without spaces (CJK) is cut
// between characters.
func trimToRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		if n == 1 {
			return "…"
		}
		return ""
	}
	// Byte offset of the (n-1)th rune: leave room for the ellipsis.
	cut, k := len(s), 0
	for i := range s {
		if k == n-1 {
			cut = i
			break
		}
		k++
	}
	head := s[:cut]
	if sp := strings.LastIndexAny(head, " \n\t"); sp > len(head)/2 {
		head = head[:sp]
	}
	head = strings.TrimRight(head, " \t\n,;:-–—([{\"'“‘")
	return head + "…"
}

// runes counts the characters of s as the limits do.
func runes(s string) int { return utf8.RuneCountInString(s) }
