"""The steering grammar's words: polarity cues, synonyms, moods and time phrases.

Cues are matched longest first, so "never want to see" beats "want". Synonyms only ever name
candidate topics: a synonym whose topic is not in the catalog is ignored.
"""

from __future__ import annotations

__all__ = ["CUES", "SYNONYMS", "MOODS", "MOOD_WORDS", "FILLER", "CLAUSE_BREAKS", "MATURITY_WORDS"]

# (phrase, polarity). Polarity: more, less or never.
CUES: tuple[tuple[str, str], ...] = (
    ("never want to see", "never"), ("never want", "never"), ("never show me", "never"),
    ("never show", "never"), ("no more", "never"), ("stop showing me", "never"),
    ("stop showing", "never"), ("don't show me", "never"), ("dont show me", "never"),
    ("do not show me", "never"), ("don't show", "never"), ("dont show", "never"),
    ("do not show", "never"), ("don't want to see", "never"), ("dont want to see", "never"),
    ("do not want to see", "never"), ("don't want", "never"), ("dont want", "never"),
    ("do not want", "never"), ("i hate", "never"), ("hate", "never"), ("never", "never"),
    ("mute", "never"), ("block", "never"), ("ban", "never"), ("without", "never"),
    ("nothing about", "never"), ("no", "never"),
    ("not so much", "less"), ("not as much", "less"), ("not too much", "less"),
    ("too much", "less"), ("too many", "less"), ("tired of", "less"), ("sick of", "less"),
    ("bored of", "less"), ("bored with", "less"), ("enough of", "less"), ("enough", "less"),
    ("less of", "less"), ("less", "less"), ("fewer", "less"), ("reduce", "less"),
    ("cut down on", "less"), ("cut back on", "less"), ("fewer of", "less"),
    ("more of", "more"), ("more", "more"), ("show me", "more"), ("give me", "more"),
    ("i want", "more"), ("i'd like", "more"), ("i would like", "more"), ("i like", "more"),
    ("i love", "more"), ("want", "more"), ("love", "more"), ("like", "more"),
    ("into", "more"), ("lots of", "more"), ("plenty of", "more"), ("boost", "more"),
    ("extra", "more"), ("add", "more"),
)

# Words that end a clause: the polarity of a clause does not leak into the next one.
CLAUSE_BREAKS = frozenset({"but", "however", "though", "although", "while", "also", "then"})

# Spoken word -> catalog topics it may mean (kept only when the topic exists).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "pet": ("pets", "animals"), "cat": ("cats", "pets", "animals"), "kitten": ("cats", "pets"),
    "kitty": ("cats", "pets"), "dog": ("dogs", "pets", "animals"), "puppy": ("dogs", "pets"),
    "doggo": ("dogs", "pets"), "animal": ("animals", "pets"), "wildlife": ("animals", "nature"),
    "diet": ("dieting",), "diets": ("dieting",), "weight loss": ("dieting",),
    "calorie": ("dieting",), "body": ("body_image",), "body image": ("body_image",),
    "sport": ("sports",), "football": ("sports",), "soccer": ("sports",),
    "basketball": ("sports",), "workout": ("fitness",), "gym": ("fitness",),
    "exercise": ("fitness",), "dancing": ("dance",), "dancer": ("dance",),
    "song": ("music",), "songs": ("music",), "concert": ("music",), "game": ("gaming",),
    "games": ("gaming",), "video game": ("gaming",), "gamer": ("gaming",),
    "recipe": ("cooking", "food"), "recipes": ("cooking", "food"), "baking": ("cooking", "food"),
    "cook": ("cooking",), "meal": ("food", "cooking"), "funny": ("comedy", "memes"),
    "joke": ("comedy",), "jokes": ("comedy",), "meme": ("memes",), "film": ("movies",),
    "films": ("movies",), "movie": ("movies",), "cinema": ("movies",), "sci-fi": ("scifi",),
    "sci fi": ("scifi",), "science fiction": ("scifi",), "scary": ("horror",),
    "spooky": ("horror",), "creepy": ("horror",), "car": ("cars",), "auto": ("cars",),
    "trip": ("travel",), "trips": ("travel",), "outdoors": ("nature",), "hiking": ("nature",),
    "makeup": ("beauty",), "skincare": ("beauty",), "clothes": ("fashion",),
    "outfit": ("fashion",), "outfits": ("fashion",), "painting": ("art",),
    "drawing": ("art",), "crafts": ("diy",), "craft": ("diy",), "technology": ("tech",),
    "gadget": ("tech",), "gadgets": ("tech",), "astronomy": ("space",), "planet": ("space",),
    "learning": ("education",), "school": ("education",), "study": ("education",),
    "politics": ("news",), "sad": ("sadness",), "depressing": ("sadness",),
    "fight": ("aggression",), "fights": ("aggression",), "fighting": ("aggression",),
    "violent": ("aggression",), "cartoon": ("anime",), "cartoons": ("anime",),
}

# Mood -> (topics to boost, topics to reduce), matched against the catalog.
MOODS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "calm": (("asmr", "nature", "art", "music", "travel", "cooking"),
             ("horror", "aggression", "news", "sadness")),
    "funny": (("comedy", "memes", "pets", "animals"), ("sadness", "news")),
    "energetic": (("sports", "dance", "fitness", "music", "gaming"), ("asmr",)),
    "curious": (("science", "education", "history", "space", "tech"), ()),
    "cozy": (("cooking", "food", "diy", "pets", "nature", "asmr"), ("horror", "aggression")),
}
MOOD_WORDS: dict[str, str] = {
    "calm": "calm", "relaxing": "calm", "relaxed": "calm", "relax": "calm", "chill": "calm",
    "peaceful": "calm", "soothing": "calm", "quiet": "calm", "mellow": "calm",
    "funny": "funny", "cheerful": "funny", "happy": "funny", "light": "funny",
    "lighthearted": "funny", "silly": "funny", "laugh": "funny", "energetic": "energetic",
    "upbeat": "energetic",
    "hype": "energetic", "pumped": "energetic", "exciting": "energetic",
    "curious": "curious", "interesting": "curious", "educational": "curious",
    "cozy": "cozy", "comforting": "cozy", "wholesome": "cozy",
}
MATURITY_WORDS = frozenset({"mature", "adult", "nsfw", "explicit", "grown-up", "18+"})

FILLER = frozenset({
    "please", "videos", "video", "clips", "clip", "stuff", "content", "things", "thing", "the",
    "of", "to", "and", "or", "some", "a", "an", "again", "anymore", "any", "me", "i", "my",
    "see", "about", "with", "for", "on", "in", "it", "that", "this", "these", "those", "is",
    "are", "be", "feed", "posts", "post", "something", "bit", "little", "lot", "lots", "way",
    "kind", "sort", "really", "just", "maybe", "would", "could", "you", "your", "can",
    "feeling", "feel", "mood", "im", "i'm", "am", "so", "very", "much", "many", "tonight",
    "today", "now", "right", "week", "hour", "hours", "by", "from", "creator", "creators",
    "ever", "at", "all", "more", "less", "vibes", "vibe", "like", "get", "let's", "lets",
})
