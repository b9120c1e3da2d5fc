import type { InvalidReason } from '@sigflow/core';
import { LuaScript } from '../lua-script.js';
import { slotSafePipeline } from '../cluster-commands.js';
import { execAll } from '../pipeline-replies.js';
import type { RedisClient } from '../redis-client.js';
import type { StoreKeys } from '../store-keys.js';

/**
 * Rewrites the reviewed signals of one user's log with the batch layer's verdicts, atomically
 * (a script: signals the speed layer appends meanwhile are never lost). KEYS[1]: the user's
 * signal list; ARGV: pairs of an event id as a JSON string (as core's `encodeSignal` stores it)
 * and its verdict: `valid` or an invalid reason. Each listed event's oldest entry gets the
 * verdict, `"late":false` (the batch layer counts every event) and `"source":"batch"`, loses
 * `"unchecked":true` (the batch layer checked it), and keeps its other fields as they were; a later copy becomes a dropped marker (core's `DROPPED_SIGNAL_PREFIX`),
 * in place, so the list keeps the length the user's snapshot counts. Entries of another layout
 * are left alone. Returns what changed: pairs of the event id (as given) and `verdict` (validity
 * or reason), `late` (the speed layer had it late) or `duplicate` (a later copy dropped).
 */
const correctUserSignalsLua = `
local key = KEYS[1]
local list = redis.call('LRANGE', key, 0, -1)
if #list == 0 then return {} end
local verdicts = {}
for i = 1, #ARGV, 2 do verdicts[ARGV[i]] = ARGV[i + 1] end
local PREFIXES = {'{"invalid":false,"event_id":', '{"invalid":true,"event_id":', '{"invalid":false,"unchecked":true,"event_id":', '{"invalid":true,"unchecked":true,"event_id":'}
local kept = {}
local changes = {}
local function note(id, what) changes[#changes + 1] = id; changes[#changes + 1] = what end
for i = #list, 1, -1 do
  local s = list[i]
  local wasValid, idStart
  for _, p in ipairs(PREFIXES) do
    if string.sub(s, 1, #p) == p then wasValid = string.sub(p, 12, 12) == 'f'; idStart = #p + 1; break end
  end
  if idStart then
    local idEnd = string.find(s, ',"type":', idStart, true)
    local id = idEnd and string.sub(s, idStart, idEnd - 1)
    local verdict = id and verdicts[id]
    if verdict and kept[id] then
      redis.call('LSET', key, i - 1, '{"dropped":"duplicate","event_id":' .. id .. '}')
      note(id, 'duplicate')
    elseif verdict then
      kept[id] = true
      local reasonAt = string.find(s, ',"reason":', idEnd, true)
      local lateAt = reasonAt and string.find(s, ',"late":', reasonAt, true)
      if lateAt then
        local oldReason = string.sub(s, reasonAt + 10, lateAt - 1)
        local wasLate = string.sub(s, lateAt + 8, lateAt + 11) == 'true'
        local rest = string.sub(s, lateAt + (wasLate and 12 or 13))
        if string.sub(rest, 1, 11) == ',"source":"' then rest = string.sub(rest, string.find(rest, '"', 12, true) + 1) end
        local invalid = verdict ~= 'valid'
        local reason = invalid and ('"' .. verdict .. '"') or 'null'
        local fixed = '{"invalid":' .. tostring(invalid) .. ',"event_id":' .. id .. string.sub(s, idEnd, reasonAt - 1)
          .. ',"reason":' .. reason .. ',"late":false,"source":"batch"' .. rest
        if invalid == wasValid or reason ~= oldReason then note(id, 'verdict') end
        if wasLate then note(id, 'late') end
        if fixed ~= s then redis.call('LSET', key, i - 1, fixed) end
      end
    end
  end
end
return changes
`;
const correctUserSignalsScript = new LuaScript(correctUserSignalsLua);

/** The batch layer's verdict on one reviewed event of a user. */
export interface SignalVerdict {
  readonly eventId: string;
  /** null: valid. */
  readonly reason: InvalidReason | null;
}

/** The reviewed events of one user, to correct in the user's log. */
export interface UserSignalCorrection {
  readonly partition: number;
  readonly userId: string;
  readonly verdicts: readonly SignalVerdict[];
}

/** One change a correction made to a user's log. */
export interface SignalChange {
  readonly eventId: string;
  /** `verdict`: validity or reason; `late`: the speed layer had it late; `duplicate`: a later copy dropped. */
  readonly what: 'verdict' | 'late' | 'duplicate';
}

/**
 * Corrects users' signals with the batch layer's verdicts (one script per user, pipelined;
 * see {@link correctUserSignalsLua}), returning what changed in each user's log, in order.
 */
export async function correctUserSignals(redis: RedisClient, keys: StoreKeys, users: readonly UserSignalCorrection[]): Promise<SignalChange[][]> {
  const changes: SignalChange[][] = [];
  for (let i = 0; i < users.length; i += 500) {
    const part = users.slice(i, i + 500);
    const replies = await Promise.all(
      part.map((u) => {
        const args: string[] = [];
        for (const v of u.verdicts) args.push(JSON.stringify(v.eventId), v.reason ?? 'valid');
        return correctUserSignalsScript.run(redis, [keys.signals(u.partition, u.userId)], args) as Promise<string[]>;
      }),
    );
    for (const reply of replies) {
      const user: SignalChange[] = [];
      for (let j = 0; j < reply.length; j += 2) user.push({ eventId: JSON.parse(reply[j] as string) as string, what: reply[j + 1] as SignalChange['what'] });
      changes.push(user);
    }
  }
  return changes;
}

/**
 * The event ids the speed layer asked the batch layer to review for one hour, over every
 * partition ({@link StoreKeys.signalReviews}), each once.
 */
export async function readSignalReviews(redis: RedisClient, keys: StoreKeys, partitions: number, hourStart: number): Promise<string[]> {
  const pipe = slotSafePipeline(redis);
  for (let p = 0; p < partitions; p++) pipe.get(keys.signalReviews(p, hourStart));
  const ids = new Set<string>();
  for (const text of (await execAll(pipe)) as (string | null)[]) {
    for (const line of String(text ?? '').split('\n')) if (line !== '') ids.add(JSON.parse(line) as string);
  }
  return [...ids];
}

/** One review line for {@link StoreKeys.signalReviews}: the event id as a JSON string. */
export function signalReviewLine(eventId: string): string {
  return `${JSON.stringify(eventId)}\n`;
}
