-- Needs stories/add_timeline.lua and stories/file_search.lua before it.
-- ARGV: the keyspace (``P story:``), the batch as JSON (see ``_write_batch``), then per
-- story of its "stories" the four memory fields, then the decisions of the stories' timeline
-- entries (story by story, as listed in "stories"). Sent in one MULTI after an MSET of the
-- summaries and outcomes, which this gives their TTLs. Large values stay out of Lua, which
-- hashes every byte of a string it is handed. The index filings come grouped by key: one
-- ZADD and one EXPIRE per key. A story's update only grows, so one trim after the batch's
-- filings keeps what trimming after each would; it is needed only when the ZADD added a
-- member (new scores alone leave the size at most ``keep``) and the set may now hold more
-- than ``keep``: not for the keys of "small", which the writer holds in memory with fewer
-- stories than that after the batch.
local prefix = ARGV[1]
local batch = cjson.decode(ARGV[2])
local keep, ttl = batch.keep, batch.ttl
local past_keep = tostring(-keep - 1)
local function zadd(key, entries)  -- {score, member, ...}: unpack takes a few thousand at most
  local added = 0
  for i = 1, #entries, 1000 do
    added = added + redis.call('ZADD', key, unpack(entries, i, math.min(i + 999, #entries)))
  end
  return added
end
local updated, outlets = {}, {}
local timeline_arg = 4 * #batch.stories + 3
for i, story in ipairs(batch.stories) do
  local sid, story_ttl, at, arg = story[1], story[2], story[3], 4 * i - 1
  redis.call('EXPIRE', prefix .. 'sum:' .. sid, story_ttl)
  local memory = prefix .. 'mem:' .. sid
  -- Every field is rewritten (the memory always has all four): no DEL needed.
  redis.call('HSET', memory, 'terms', ARGV[arg], 'sents', ARGV[arg + 1],
             'lens', ARGV[arg + 2], 'meta', ARGV[arg + 3])
  redis.call('EXPIRE', memory, story_ttl)
  updated[2 * i - 1], updated[2 * i] = at, sid
  local added = story[4]
  if #added > 0 then
    timeline_arg = add_timeline(prefix, sid, story_ttl, added[1], added[2], timeline_arg,
                                batch.timeline_keep)
    note_outlets(prefix, sid, at, outlets)
  end
end
file_outlets(prefix, outlets, ttl, batch.cutoff)
local function file(index, check)
  for key, filed in pairs(index) do
    local index_key, added, entries = prefix .. 'idx:' .. key, 0, nil
    local sid, at = next(filed)
    if next(filed, sid) == nil then  -- most keys get one story per batch
      added = redis.call('ZADD', index_key, at, sid)
      entries = {at, sid}
    else
      entries = {}
      for sid, at in pairs(filed) do
        entries[#entries + 1] = at
        entries[#entries + 1] = sid
      end
      added = zadd(index_key, entries)
    end
    local over = check and added > 0 and redis.call('ZCARD', index_key) > keep
    -- A key of "small" never overflowed: its filings are all in idx, no search index.
    if batch.search and check then
      file_search(index_key, prefix .. 'sx:' .. key, over, entries, ttl, batch.cutoff)
    end
    if over then
      redis.call('ZREMRANGEBYRANK', index_key, 0, past_keep)
    end
    redis.call('EXPIRE', index_key, ttl)
  end
end
file(batch.small, false)
file(batch.index, true)
for article, mapped in pairs(batch.articles) do
  redis.call('SET', prefix .. 'art:' .. article, mapped[1], 'EX', mapped[2])
end
zadd(prefix .. 'updated', updated)
redis.call('ZREMRANGEBYSCORE', prefix .. 'updated', '-inf', batch.cutoff)
for _, article in ipairs(batch.outcomes) do
  redis.call('EXPIRE', prefix .. 'dec:' .. article, batch.outcome_ttl)
end
return #batch.stories
