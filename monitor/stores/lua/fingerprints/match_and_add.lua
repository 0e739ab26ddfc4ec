-- Look up each article's near copies and store it, atomically (RedisFingerprintStore).
-- KEYS: none (the script builds its key names from the prefix: a single Redis, not Cluster).
-- ARGV: prefix, ttl, generation seconds, generations read, min_shared, max_candidates,
-- default buckets, sids per sample, entries per bucket, filter bits, now, lookup ('1': look
-- up and store, '0': store only); then 5 per article: article id, info
-- ("{inserted}|{stored samples}|{bound, hex}|{outlet}"), locator count, stored sample
-- count, keys (big-endian 8 bytes each, the content key and page locators first).
-- Returns per article {sid or 0, then 5 per match: kind ('x' exact, 'u' same page,
-- 'c' candidate), sid, shared samples, article id, info}.
-- Key layout: docs/stores/fingerprints.md.
local prefix = ARGV[1]
local ttl = tonumber(ARGV[2])
local generation_seconds = tonumber(ARGV[3])
local generations = tonumber(ARGV[4])
local min_shared = tonumber(ARGV[5])
local max_candidates = tonumber(ARGV[6])
local default_buckets = tonumber(ARGV[7])
local sids_per_sample = tonumber(ARGV[8])
local entries_per_bucket = tonumber(ARGV[9])
local filter_bits = tonumber(ARGV[10])
local now = tonumber(ARGV[11])
local lookup = ARGV[12] == '1'
local generation = math.floor(now / generation_seconds)
local oldest = now - ttl
local expire_at = math.ceil((generation + 1) * generation_seconds + ttl)
local expire_text = string.format('%d', expire_at)
local meta_expire_text = string.format('%d', math.ceil(now + ttl + generation_seconds))
local floor, byte, format, call, unpack = math.floor, string.byte, string.format, redis.call, unpack
-- filter cells: one bit per generation slot (generation mod cell_bits)
local cell_bits = 8
while cell_bits < generations do cell_bits = cell_bits * 2 end
local cell_type = 'u' .. cell_bits
local slot_offset = generation % cell_bits

-- Every number handed to redis.call is formatted here with '%d': Lua's own number to string
-- conversion ('%.14g') costs several times more. The articles of one call share `now`, so
-- everything that depends only on it and on the settings is worked out once per call, and
-- the per-item tables are reused from one article to the next (fewer allocations, less
-- garbage for Lua to collect).

-- the live generations, newest first: {generation, buckets, filter size class, hash key
-- prefix, slot weight in a filter cell}
local generation_text = {}
local layout_keys = {}
for j = 1, generations do
  generation_text[j] = format('%d', generation - j + 1)
  layout_keys[j] = prefix .. 'b:' .. generation_text[j]
end
local layouts = call('MGET', unpack(layout_keys))
local function slot_weight(g)
  return 2 ^ (cell_bits - 1 - g % cell_bits)
end
local live = {}
for j = 1, generations do
  if layouts[j] then
    local buckets, class = string.match(layouts[j], '^(%d+) (%d+)$')
    local g = generation - j + 1
    live[#live + 1] = {g, tonumber(buckets), tonumber(class),
      prefix .. 'h:' .. generation_text[j] .. ':', slot_weight(g)}
  end
end
local n_live = #live
local current = n_live > 0 and live[1][1] == generation

-- a filter of size class c is 2^c - 16 bytes (one allocation of 2^c with its header)
local cell_counts = {}
local function filter_cells(class)
  local size = cell_counts[class]
  if not size then
    size = floor((2 ^ class - 16) * 8 / cell_bits)
    cell_counts[class] = size
  end
  return size
end

local seq_key = prefix .. 'seq'
local sid = tonumber(call('GET', seq_key) or '0')
local first_sid = sid
local count_key = prefix .. 'n:' .. generation_text[1]
local bucket_flags = prefix .. 'c:' .. generation_text[1]
local added_entries = 0
local meta_expiring = {}
-- the current generation's buckets whose hash this call has flagged (so it exists)
local flagged = {}

-- per item (the locators, content key first, then the samples), reused by every article
local tops, lows, highs, fields = {}, {}, {}, {}
-- the item's filter cells in the class `cells_class` (the newest live generation's)
local firsts, seconds, cells_class = {}, {}, nil
-- per item, its bucket (number and text) in the last bucket count asked about, and its hash
-- key in the last generation asked about
local buckets_of, bucket_texts, bucket_counts, hash_keys, key_layouts = {}, {}, {}, {}, {}
-- scratch lists: bitfield arguments, the sids of an index value
local args, parts = {}, {}

local function hash_key(k, layout)
  if key_layouts[k] ~= layout then
    if bucket_counts[k] ~= layout[2] then
      bucket_counts[k] = layout[2]
      buckets_of[k] = floor(tops[k] * layout[2] / 16777216)
      bucket_texts[k] = format('%d', buckets_of[k])
    end
    key_layouts[k] = layout
    hash_keys[k] = layout[4] .. bucket_texts[k]
  end
  return hash_keys[k]
end

-- each item's two filter cells in size class `class` (from bits other than its bucket's and
-- field's leading ones), into firsts/seconds, or into fresh tables for another class
local function cells_in(class, n)
  if class == cells_class then return firsts, seconds end
  local size = filter_cells(class)
  local a, b = firsts, seconds
  if cells_class ~= nil then a, b = {}, {} else cells_class = class end
  for k = 1, n do
    a[k] = floor(lows[k] * size / 4294967296)
    b[k] = floor(highs[k] * size / 4294967296)
  end
  return a, b
end

local function meta(sid_text, article_id)
  local n = tonumber(sid_text)
  local slot = format('%d', n % 64)
  local values = call('HMGET', prefix .. 'm:' .. format('%d', floor(n / 64)),
    'i' .. slot, 'd' .. slot)
  -- the same article again (a redelivery or a retry) must not match itself
  if not values[1] or not values[2] or values[1] == article_id then return nil end
  local inserted = tonumber(string.match(values[2], '^[^|]+'))
  if inserted < oldest then return nil end
  return {n, values[1], values[2]}
end

-- a content or page key names the latest article; a shingle sample names the latest few
-- that had it, so articles on the same topic do not take over each other's matches
local function append(previous, sid_text)
  local n = 0
  for stored in string.gmatch(previous, '%S+') do
    n = n + 1
    parts[n] = stored
  end
  parts[n + 1] = sid_text
  -- the latest sids_per_sample - 1 before this one
  return table.concat(parts, ' ', math.max(1, n - sids_per_sample + 2), n + 1)
end

-- A generation's layout is fixed by its first insert, from the latest earlier generation's
-- entry count: its bucket count (about entries_per_bucket entries per hash keeps every hash
-- a small listpack) and its filter (about filter_bits cells per entry; the newest live
-- generation's filter is kept while within a factor 2 of that).
local function start_generation()
  local count_keys = {}
  for j = 1, generations do count_keys[j] = prefix .. 'n:' .. format('%d', generation - j) end
  local counts = call('MGET', unpack(count_keys))
  local previous = 0
  for j = 1, generations do
    previous = tonumber(counts[j] or '0')
    if previous > 0 then break end
  end
  local buckets = default_buckets
  if previous > 0 then
    buckets = math.max(16, math.ceil(previous / entries_per_bucket))
  end
  -- (without history, a filter for `buckets` entries: small, busier than it should be for
  -- one generation at most)
  local wanted = math.max(1024, (previous > 0 and previous or buckets)
    * filter_bits * cell_bits / 8)
  local class = floor(math.log(wanted) / math.log(2) + 0.5)
  if n_live > 0 and live[1][3] >= class - 1 and live[1][3] <= class + 1 then
    class = live[1][3]
  end
  local layout = {generation, buckets, class, prefix .. 'h:' .. generation_text[1] .. ':',
    slot_weight(generation)}
  local filter = prefix .. 'f:' .. class
  if call('EXISTS', filter) == 1 then
    -- forget what the generation that had this slot before stored (it has expired)
    local pattern = {}
    local slot = generation % cell_bits
    for b = 0, cell_bits / 8 - 1 do
      local clear = floor(slot / 8) == b and 2 ^ (7 - slot % 8) or 0
      pattern[#pattern + 1] = string.char(255 - clear)
    end
    local mask = prefix .. 'f:mask'
    call('SET', mask, string.rep(table.concat(pattern), filter_cells(class)), 'EX', '60')
    -- BITOP drops the expiry; a generation started late, after a newer one, must not
    -- shorten it
    local expiry = math.max(call('EXPIRETIME', filter), expire_at)
    call('BITOP', 'AND', filter, filter, mask)
    call('DEL', mask)
    call('EXPIREAT', filter, format('%d', expiry))
  else
    -- allocate it at once (growing bit by bit over-allocates)
    call('SETBIT', filter, format('%d', filter_cells(class) * cell_bits - 1), '0')
    call('EXPIREAT', filter, expire_text)
  end
  call('SET', prefix .. 'b:' .. generation_text[1], format('%d %d', buckets, class),
    'EXAT', expire_text)
  call('SETBIT', bucket_flags, format('%d', buckets - 1), '0')
  call('EXPIREAT', bucket_flags, expire_text)
  -- the later articles of this call find it live, as the next call will
  table.insert(live, 1, layout)
  n_live = n_live + 1
  current = true
end

local function match_and_add(article_id, info, n_locators, n_store, blob)
  local n_items = #blob / 8
  for k = 1, n_items do
    local at = 8 * k - 7
    local b1, b2, b3, b4, b5, b6, b7, b8 = byte(blob, at, at + 7)
    tops[k] = (b1 * 256 + b2) * 256 + b3
    -- two filter cells per item, from bits other than its bucket's and field's leading ones
    lows[k] = ((b5 * 256 + b6) * 256 + b7) * 256 + b8
    highs[k] = ((b8 * 256 + b4) * 256 + b3) * 256 + b2
    if k > n_locators then
      -- the next 16 bits, shifted to a signed 16-bit integer: 3-4 bytes in a listpack
      fields[k] = b4 * 256 + b5 - 32768
    else
      fields[k] = b4 * 4294967296 + lows[k]
    end
    bucket_counts[k] = nil
    key_layouts[k] = nil
  end
  cells_class = nil
  local n_written = n_locators + n_store
  local field_texts = {}
  for k = 1, n_written do field_texts[k] = format('%d', fields[k]) end

  -- the current generation's index value of each item, when the lookup read it, and its
  -- items' filter cells
  local current_values = {}
  local known_firsts, known_seconds = nil, nil
  local out = {0}
  local own = nil
  if lookup and n_live > 0 then
    -- each item's filter cells, per filter (all live generations share one, but after a
    -- resize): the first cells in one BITFIELD_RO, then, in another, the second cells of the
    -- items whose first cell has a live generation's bit (the others are left unread: nil);
    -- HGET only in the generations whose bit both cells have
    local weights = {}
    for _, layout in ipairs(live) do
      local list = weights[layout[3]]
      if not list then
        list = {}
        weights[layout[3]] = list
      end
      list[#list + 1] = layout[5]
    end
    local cells = {}
    for _, layout in ipairs(live) do
      local class = layout[3]
      if not cells[class] then
        local a, b = cells_in(class, n_items)
        for k = 1, n_items do
          args[3 * k - 2] = 'GET'; args[3 * k - 1] = cell_type; args[3 * k] = format('#%d', a[k])
        end
        local filter = prefix .. 'f:' .. class
        local firsts_read = call('BITFIELD_RO', filter, unpack(args, 1, 3 * n_items))
        local class_weights = weights[class]
        local asked, n_args = {}, 0
        for k = 1, n_items do
          local value = firsts_read[k]
          if value > 0 then
            for w = 1, #class_weights do
              local weight = class_weights[w]
              if value % (2 * weight) >= weight then
                asked[#asked + 1] = k
                args[n_args + 1] = 'GET'; args[n_args + 2] = cell_type
                args[n_args + 3] = format('#%d', b[k])
                n_args = n_args + 3
                break
              end
            end
          end
        end
        local seconds_read = {}
        if n_args > 0 then
          local read = call('BITFIELD_RO', filter, unpack(args, 1, n_args))
          for m = 1, #asked do seconds_read[asked[m]] = read[m] end
        end
        cells[class] = {firsts_read, seconds_read}
      end
    end
    if current then
      known_firsts, known_seconds = cells[live[1][3]][1], cells[live[1][3]][2]
    end
    local found = {}
    for j = 1, n_live do
      local layout = live[j]
      local firsts_read, seconds_read = cells[layout[3]][1], cells[layout[3]][2]
      local weight = layout[5]
      local twice = 2 * weight
      for k = 1, n_items do
        local second = seconds_read[k]
        if second and second % twice >= weight and firsts_read[k] % twice >= weight then
          local field = field_texts[k]
          if not field then
            field = format('%d', fields[k])
            field_texts[k] = field
          end
          local value = call('HGET', hash_key(k, layout), field)
          if j == 1 and current then current_values[k] = value end
          if value then
            -- newest generation first, newest sid first
            local list = found[k]
            if not list then
              list = {}
              found[k] = list
            end
            if not string.find(value, ' ', 1, true) then
              list[#list + 1] = value
            else
              local n = 0
              for found_sid in string.gmatch(value, '%S+') do
                n = n + 1
                parts[n] = found_sid
              end
              for m = n, 1, -1 do list[#list + 1] = parts[m] end
            end
          end
        end
      end
    end

    -- a redelivery or retry (its content key names the article itself) matches only what
    -- was stored before its first pass, as that pass did, and is not stored again: matched
    -- against the articles of its own batch stored after it, an original would become a
    -- copy of its own reprint
    local own_list = found[1]
    if own_list then
      for m = 1, #own_list do
        local n = tonumber(own_list[m])
        local id = call('HGET', prefix .. 'm:' .. format('%d', floor(n / 64)),
          'i' .. format('%d', n % 64))
        if id == article_id then
          own = n
          break
        end
      end
    end
    if own then
      for k, sids in pairs(found) do
        local kept = {}
        for m = 1, #sids do
          if tonumber(sids[m]) < own then kept[#kept + 1] = sids[m] end
        end
        found[k] = kept
      end
    end

    local function first_alive(k)
      local list = found[k]
      if not list then return nil end
      for m = 1, #list do
        local stored = meta(list[m], article_id)
        if stored then return stored end
      end
      return nil
    end

    local exact = first_alive(1)
    if exact then
      return {0, 'x', exact[1], 0, exact[2], exact[3]}
    end
    for k = 2, n_locators do
      local located = first_alive(k)
      if located then
        out[#out + 1] = 'u'; out[#out + 1] = located[1]; out[#out + 1] = 0
        out[#out + 1] = located[2]; out[#out + 1] = located[3]
        break
      end
    end
    -- shared samples per sid, counted per sample, newest generation and newest sid first
    -- (the first-seen order breaks ties, as in MemoryFingerprintStore)
    local counts = {}
    local seen = {}
    for k = n_locators + 1, n_items do
      local list = found[k]
      if list then
        for m = 1, #list do
          local found_sid = list[m]
          local count = counts[found_sid]
          if count then
            counts[found_sid] = count + 1
          else
            counts[found_sid] = 1
            seen[#seen + 1] = found_sid
          end
        end
      end
    end
    local ranked = {}
    local rank = {}
    for position = 1, #seen do
      local found_sid = seen[position]
      if counts[found_sid] >= min_shared then
        ranked[#ranked + 1] = found_sid
        rank[found_sid] = position
      end
    end
    if #ranked > 1 then
      table.sort(ranked, function(a, b)
        local ca, cb = counts[a], counts[b]
        if ca ~= cb then return ca > cb end
        return rank[a] < rank[b]
      end)
    end
    for k = 1, math.min(#ranked, max_candidates) do
      local candidate = meta(ranked[k], article_id)
      if candidate then
        out[#out + 1] = 'c'; out[#out + 1] = candidate[1]; out[#out + 1] = counts[ranked[k]]
        out[#out + 1] = candidate[2]; out[#out + 1] = candidate[3]
      end
    end
  end

  if own then
    out[1] = own
    return out
  end
  if not current then start_generation() end
  local layout = live[1]
  added_entries = added_entries + n_written

  sid = sid + 1
  local slot = format('%d', sid % 64)
  local meta_key = prefix .. 'm:' .. format('%d', floor(sid / 64))
  call('HSET', meta_key, 'i' .. slot, article_id, 'd' .. slot, info)
  -- (one expiry per meta hash and call: the articles of a call share `now`)
  if not meta_expiring[meta_key] then
    meta_expiring[meta_key] = true
    call('EXPIREAT', meta_key, meta_expire_text)
  end
  local sid_text = format('%d', sid)

  -- set the stored items' filter bits (the old bit says whether the item may be in the
  -- generation) and the flags of the hashes written (a new hash needs its expiry)
  local a, b = cells_in(layout[3], n_written)
  local filter = prefix .. 'f:' .. layout[3]
  local old_bits
  if known_firsts then
    -- the lookup has just read these cells (but the second ones it left unread): only the
    -- bits not known to be set need a SET, and only an unread cell's SET reply is needed
    -- (a cell's old bit is as read, or set by an earlier item of this article)
    old_bits = {}
    local weight = layout[5]
    local twice = 2 * weight
    local set_now, replied = {}, {}
    local n_args = 0
    for m = 1, 2 * n_written do
      local k = floor((m + 1) / 2)
      local cell, value
      if m % 2 == 1 then
        cell, value = a[k], known_firsts[k]
      else
        cell, value = b[k], known_seconds[k]
      end
      if set_now[cell] or (value and value % twice >= weight) then
        old_bits[m] = 1
      else
        old_bits[m] = 0
        set_now[cell] = true
        args[n_args + 1] = 'SET'; args[n_args + 2] = 'u1'
        args[n_args + 3] = format('%d', cell * cell_bits + slot_offset); args[n_args + 4] = '1'
        n_args = n_args + 4
        if not value then replied[m] = n_args / 4 end
      end
    end
    if n_args > 0 then
      local previous = call('BITFIELD', filter, unpack(args, 1, n_args))
      for m, op in pairs(replied) do old_bits[m] = previous[op] end
    end
  else
    for k = 1, n_written do
      local at = 8 * k
      args[at - 7] = 'SET'; args[at - 6] = 'u1'
      args[at - 5] = format('%d', a[k] * cell_bits + slot_offset); args[at - 4] = '1'
      args[at - 3] = 'SET'; args[at - 2] = 'u1'
      args[at - 1] = format('%d', b[k] * cell_bits + slot_offset); args[at] = '1'
    end
    old_bits = call('BITFIELD', filter, unpack(args, 1, 8 * n_written))
  end
  -- a hash is known to exist when the lookup read a value from it or this call flagged it
  local created = {}
  local flagging = {}
  local n_args = 0
  for k = 1, n_written do
    hash_key(k, layout)
    local bucket = buckets_of[k]
    if current_values[k] or flagged[bucket] then
      created[k] = 1
    else
      flagged[bucket] = true
      flagging[#flagging + 1] = k
      args[n_args + 1] = 'SET'; args[n_args + 2] = 'u1'; args[n_args + 3] = bucket_texts[k]
      args[n_args + 4] = '1'
      n_args = n_args + 4
    end
  end
  if n_args > 0 then
    local flags = call('BITFIELD', bucket_flags, unpack(args, 1, n_args))
    for m = 1, #flagging do created[flagging[m]] = flags[m] end
  end

  -- entries this article wrote, by bucket and field (a sample's field is 16 bits, so one
  -- number names both; a content or page key can only meet a sample's entry when its field
  -- is that small)
  local written = {}
  for k = 1, n_written do
    local key = hash_keys[k]
    local field = field_texts[k]
    local value = fields[k]
    local entry = nil
    if k > n_locators or value < 32768 then
      entry = buckets_of[k] * 65536 + value + 32768
    end
    if k <= n_locators or sids_per_sample <= 1 then
      call('HSET', key, field, sid_text)
    elseif (old_bits[2 * k - 1] == 1 and old_bits[2 * k] == 1) or written[entry] then
      local previous = current_values[k]
      if previous == nil or written[entry] then
        previous = call('HGET', key, field)
      end
      call('HSET', key, field, previous and append(previous, sid_text) or sid_text)
    elseif call('HSETNX', key, field, sid_text) == 0 then
      -- another sample with the same bucket and field (the filter tells samples apart)
      call('HSET', key, field, append(call('HGET', key, field), sid_text))
    end
    if entry then written[entry] = true end
    if created[k] == 0 then
      call('EXPIREAT', key, expire_text)
    end
  end
  out[1] = sid
  return out
end

local replies = {}
for i = 13, #ARGV, 5 do
  replies[#replies + 1] = match_and_add(ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]),
    tonumber(ARGV[i + 3]), ARGV[i + 4])
end
if sid ~= first_sid then call('SET', seq_key, format('%d', sid)) end
if added_entries > 0 then
  local added = call('INCRBY', count_key, format('%d', added_entries))
  if added == added_entries then
    call('EXPIREAT', count_key, format('%d', expire_at + generations * generation_seconds))
  end
end
return replies
