/**
 * The `Retry-After` header (RFC 9110 §10.2.3): how long a server asks to be
 * left alone, typically with a 429 or a 503.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

// RFC 9110 §5.6.7: recipients accept all three forms, with their exact spelling (names are case-sensitive).
const IMF_FIXDATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`);

interface DateParts {
  year: number;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

/** Epoch ms of the date, or `undefined` when a field is out of range (a 31 February, a 24th hour). */
function toEpochMs(parts: DateParts): number | undefined {
  const month = MONTHS.indexOf(parts.month as (typeof MONTHS)[number]);
  const day = Number(parts.day.trim());
  const hour = Number(parts.hour);
  const minute = Number(parts.minute);
  // RFC 9110 §5.6.7: a second of 60 is a leap second.
  const second = Number(parts.second);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const date = new Date(Date.UTC(parts.year, month, day, hour, minute, Math.min(second, 59)));
  // Date.UTC rolls a 31 February over into March; a date that does not exist is no date.
  if (date.getUTCFullYear() !== parts.year || date.getUTCMonth() !== month || date.getUTCDate() !== day) return undefined;
  return date.getTime() + (second === 60 ? 1000 : 0);
}

/** An HTTP-date (RFC 9110 §5.6.7) as epoch ms, or `undefined` when it is not one. */
function parseHttpDate(value: string, now: number): number | undefined {
  const imf = IMF_FIXDATE.exec(value);
  if (imf !== null) {
    const [, day = '', month = '', year = '', hour = '', minute = '', second = ''] = imf;
    return toEpochMs({ year: Number(year), month, day, hour, minute, second });
  }
  const rfc850 = RFC850_DATE.exec(value);
  if (rfc850 !== null) {
    const [, day = '', month = '', shortYear = '', hour = '', minute = '', second = ''] = rfc850;
    // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is the most recent past year with those digits.
    const thisYear = new Date(now).getUTCFullYear();
    let year = thisYear - (thisYear % 100) + Number(shortYear);
    if (year > thisYear + 50) year -= 100;
    return toEpochMs({ year, month, day, hour, minute, second });
  }
  const asctime = ASCTIME_DATE.exec(value);
  if (asctime !== null) {
    const [, month = '', day = '', hour = '', minute = '', second = '', year = ''] = asctime;
    return toEpochMs({ year: Number(year), month, day, hour, minute, second });
  }
  return undefined;
}

/**
 * The delay a `Retry-After` value asks for, in milliseconds from `now`:
 * delta-seconds (`120`), or an HTTP-date, whose distance from `now` it is (a
 * date in the past asks for no delay: 0). Anything else — a negative or
 * fractional number, another date format, several values — is no delay the
 * server asked for: `undefined`. Not capped: what a client waits at most is
 * its own policy.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  // RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds, delay-seconds = 1*DIGIT.
  if (/^\d+$/.test(value)) {
    const delayMs = Number(value) * 1000;
    return Number.isFinite(delayMs) ? delayMs : undefined;
  }
  const at = parseHttpDate(value, now);
  if (at === undefined) return undefined;
  return Math.max(0, at - now);
}
