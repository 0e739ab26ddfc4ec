-- Needs stories/add_timeline.lua before it.
-- ARGV: the keyspace, {story id, TTL, keep, {times, digest}, last update, cutoff} as JSON,
-- then the entries' decisions.
local prefix, story = ARGV[1], cjson.decode(ARGV[2])
local added, outlets = story[4], {}
add_timeline(prefix, story[1], story[2], added[1], added[2], 3, story[3])
note_outlets(prefix, story[1], story[5], outlets)
file_outlets(prefix, outlets, story[2], story[6])
return #added[1]
