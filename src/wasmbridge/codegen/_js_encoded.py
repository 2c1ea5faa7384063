"""Hand-written JavaScript for values that cross encoded (docs/abi-compound.md).

Records, tuples and lists cross as one buffer: the value's canonical layout
at offset 0, then the bytes of its strings and lists. Each type gets one
*type object* built once when the glue loads (``recordType(...)``,
``listType(...)``): it knows its size and alignment, writes a JS value into
an ``Encoding`` and reads one back from guest memory, checking every offset,
text, bool, char, option tag and enum index the guest hands back. Enums and
chars cross as numbers at the top level and inside buffers alike.

Like ``_js_helpers``, each snippet is emitted only when a shim needs it;
``REQUIRES`` names what each one calls.
"""

from __future__ import annotations

from ..interface.plan import SCALAR_FACTS, ScalarFacts
from ..interface.types import Kind
from ._js_scalars import NUMBER_FACTS, check_name, type_object

# A bool is one byte inside a buffer, a char its scalar value (docs/abi-compound.md).
_BOOL = SCALAR_FACTS[Kind.BOOL]
_CHAR = SCALAR_FACTS[Kind.CHAR]


def _number_type(facts: ScalarFacts) -> str:
    args = f'{facts.size}, "{facts.js_view}", {check_name(facts)}, {facts.js_array}'
    return f"const {type_object(facts)} = numberType({args});"


_BASICS = {
    "badData": """\
// What the guest handed back breaks the ABI: nothing is read past it.
function badData(what, problem) {
  return new TypeError(`${what}: ${MODULE} handed back ${problem} (a bug in the module)`);
}""",
    "charCode": """\
// A char argument: a string of exactly one Unicode scalar value.
function charCode(value, what) {
  if (typeof value !== "string") throw expected(value, what, "a one-character string (char)");
  const code = value.codePointAt(0);
  if (value.length !== (code > 0xffff ? 2 : 1)) {
    const count = [...value].length;
    throw new TypeError(`${what}: expected one character (char), got a string of ${count}`);
  }
  if (code >= 0xd800 && code <= 0xdfff) {
    throw new TypeError(`${what}: a lone surrogate is not a Unicode scalar value (char)`);
  }
  return code;
}""",
    "charFrom": """\
// A char the guest handed back (an i32): a Unicode scalar value.
function charFrom(value, what) {
  const code = value >>> 0;
  if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
    throw badData(what, `the char 0x${code.toString(16)}, which is not a Unicode scalar value`);
  }
  return String.fromCodePoint(code);
}""",
}

_BUFFERS = {
    "Encoding": """\
// An argument being encoded: the fixed part at 0, then the strings and lists it
// points to, each aligned. It grows as needed; unwritten bytes stay zero.
class Encoding {
  constructor(size, what, root) {
    this.bytes = new Uint8Array(Math.max(size, 64));
    this.view = new DataView(this.bytes.buffer);
    this.length = size;
    this.what = what;
    this.root = root;
  }

  // Room for `size` more bytes aligned to `align`; returns where they start.
  reserve(size, align) {
    const start = Math.ceil(this.length / align) * align;
    const end = start + size;
    if (end > this.bytes.length) {
      if (end > 0xffffffff) {
        throw new RangeError(`${this.what}: more than 4 GiB cannot cross to ${MODULE}`);
      }
      const grown = new Uint8Array(Math.max(end, 2 * this.bytes.length));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = end;
    return start;
  }

  // How an error names the part at `path` (`points[2].x`) of the argument.
  where(path) {
    return path === this.root ? this.what : `${this.what} at ${path}`;
  }
}""",
    "encode": """\
// An argument that crosses encoded, checked and written before anything is allocated.
function encode(type, value, what, root) {
  const out = new Encoding(type.size, what, root);
  type.write(out, 0, value, root);
  return out;
}""",
    "lendEncoded": """\
// An encoded argument, placed in guest memory for one call; reclaim() frees it.
function lendEncoded(encoding) {
  const ptr = allocate(encoding.length, 8);
  memoryBytes().set(encoding.bytes.subarray(0, encoding.length), ptr);
  return { ptr, len: encoding.length, size: encoding.length, align: 8 };
}""",
    "decodeBuffer": """\
// An encoded value the guest handed over at (ptr, len), read in place: nothing runs
// in the guest while it is read.
function decodeBuffer(type, ptr, len, what) {
  const bytes = guestBytes(ptr, len);
  if (bytes.length < type.size) {
    throw badData(what, `${bytes.length} bytes for a value of ${type.size}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const input = { bytes, view, what, claimed: 0 };
  return type.read(input, 0);
}""",
    "decodeAt": """\
// A result that crossed encoded: (ptr, len) at `at` in the return area. The guest
// keeps the buffer until its next call.
function decodeAt(type, at, what) {
  const view = memoryView();
  return decodeBuffer(type, view.getUint32(at, true), view.getUint32(at + 4, true), what);
}""",
    "spanOf": """\
// The (offset, count) pair at `at` of a buffer being read, checked against its end.
// The strings and lists of a well-formed buffer never claim more bytes in all than it
// holds: pieces that point at the same bytes over and over are refused before they
// are decoded, so a small buffer cannot make the glue build a huge value.
function spanOf(input, at, size) {
  const start = input.view.getUint32(at, true);
  const count = input.view.getUint32(at + 4, true);
  const length = input.bytes.length;
  if (start + count * size > length) {
    throw badData(
      input.what,
      `${count} items of ${size} bytes at offset ${start} of a ${length}-byte value`,
    );
  }
  input.claimed += count * size;
  if (input.claimed > length) {
    throw badData(
      input.what,
      `strings and lists that claim ${input.claimed} bytes in all, more than the ` +
        `${length} bytes of the value (they share bytes)`,
    );
  }
  return [start, count];
}""",
}

_TYPES = {
    "numberType": """\
// A number inside a buffer: little-endian, aligned to its size.
function numberType(size, name, check, array) {
  const get = `get${name}`;
  const set = `set${name}`;
  return {
    size,
    align: size,
    check,
    array,
    write(out, at, value, path) {
      out.view[set](at, check(value, out.where(path)), true);
    },
    read(input, at) {
      return input.view[get](at, true);
    },
  };
}""",
    **{type_object(facts): _number_type(facts) for facts in NUMBER_FACTS},
    "boolType": f"""\
const boolType = {{
  size: {_BOOL.size},
  align: {_BOOL.size},
  write(out, at, value, path) {{
    out.view.set{_BOOL.js_view}(at, checkBool(value, out.where(path)) ? 1 : 0);
  }},
  read(input, at) {{
    const byte = input.view.get{_BOOL.js_view}(at);
    if (byte > 1) throw badData(input.what, `a bool of ${{byte}}, not 0 or 1`);
    return byte === 1;
  }},
}};""",
    "charType": f"""\
const charType = {{
  size: {_CHAR.size},
  align: {_CHAR.size},
  write(out, at, value, path) {{
    out.view.set{_CHAR.js_view}(at, charCode(value, out.where(path)), true);
  }},
  read(input, at) {{
    return charFrom(input.view.get{_CHAR.js_view}(at, true), input.what);
  }},
}};""",
    "stringType": """\
// Text: (offset, length) of its UTF-8 bytes.
const stringType = {
  size: 8,
  align: 4,
  write(out, at, value, path) {
    const text = checkText(value, out.where(path));
    const start = out.reserve(3 * text.length, 1); // at most 3 UTF-8 bytes per UTF-16 unit
    const { written } = encoder.encodeInto(text, out.bytes.subarray(start));
    out.bytes.fill(0, start + written, out.length);
    out.length = start + written;
    out.view.setUint32(at, start, true);
    out.view.setUint32(at + 4, written, true);
  },
  read(input, at) {
    const [start, length] = spanOf(input, at, 1);
    try {
      return decoder.decode(input.bytes.subarray(start, start + length));
    } catch {
      throw badData(input.what, `text at offset ${start} that is not UTF-8`);
    }
  },
};""",
    "listType": """\
// list<T>: an Array; (offset, count) of its items.
function listType(item) {
  return {
    size: 8,
    align: 4,
    write(out, at, value, path) {
      if (!Array.isArray(value)) throw expected(value, out.where(path), "Array");
      const start = out.reserve(value.length * item.size, item.align);
      out.view.setUint32(at, start, true);
      out.view.setUint32(at + 4, value.length, true);
      for (let i = 0; i < value.length; i++) {
        item.write(out, start + i * item.size, value[i], `${path}[${i}]`);
      }
    },
    read(input, at) {
      const [start, count] = spanOf(input, at, item.size);
      const items = new Array(count);
      for (let i = 0; i < count; i++) items[i] = item.read(input, start + i * item.size);
      return items;
    },
  };
}""",
    "numberListType": """\
// list<number> inside a buffer: an Array (or a typed array of the kind), copied whole.
function numberListType(item) {
  return {
    size: 8,
    align: 4,
    write(out, at, value, path) {
      const data = arrayOf(value, item.array, item.check, out.where(path));
      const start = out.reserve(data.byteLength, item.align);
      out.bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), start);
      out.view.setUint32(at, start, true);
      out.view.setUint32(at + 4, data.length, true);
    },
    read(input, at) {
      const [start, count] = spanOf(input, at, item.size);
      const copy = input.bytes.slice(start, start + count * item.size);
      return Array.from(new item.array(copy.buffer));
    },
  };
}""",
    "optionType": """\
// option<T>: undefined (or null) for none; a tag byte, then the payload.
function optionType(inner, size, payload) {
  return {
    size,
    align: inner.align,
    optional: true,
    write(out, at, value, path) {
      if (value == null) return; // tag and payload stay zero
      out.view.setUint8(at, 1);
      inner.write(out, at + payload, value, path);
    },
    read(input, at) {
      const tag = input.view.getUint8(at);
      if (tag === 0) return undefined;
      if (tag !== 1) throw badData(input.what, `an option tag of ${tag}, not 0 or 1`);
      return inner.read(input, at + payload);
    },
  };
}""",
    "tupleType": """\
// A tuple: an Array of exactly its items, each at its offset.
function tupleType(size, align, items) {
  return {
    size,
    align,
    write(out, at, value, path) {
      if (!Array.isArray(value)) {
        throw expected(value, out.where(path), `an Array of ${items.length} items (a tuple)`);
      }
      if (value.length !== items.length) {
        throw new TypeError(
          `${out.where(path)}: expected ${items.length} items (a tuple), got ${value.length}`,
        );
      }
      for (let i = 0; i < items.length; i++) {
        const [offset, item] = items[i];
        item.write(out, at + offset, value[i], `${path}[${i}]`);
      }
    },
    read(input, at) {
      return items.map(([offset, item]) => item.read(input, at + offset));
    },
  };
}""",
    "recordType": """\
// A record: a plain object with exactly its fields (an option field may be left out).
function recordType(name, size, align, fields) {
  const names = new Set(fields.map(([field]) => field));
  return {
    size,
    align,
    name,
    write(out, at, value, path) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw expected(value, out.where(path), `an object (${name})`);
      }
      for (const key of Object.keys(value)) {
        if (!names.has(key)) {
          const field = JSON.stringify(key);
          const known = [...names].join(", ");
          throw new TypeError(`${out.where(path)}: ${name} has no field ${field} (only ${known})`);
        }
      }
      for (const [field, offset, type] of fields) {
        if (!type.optional && !(field in value)) {
          throw new TypeError(`${out.where(path)}: the field ${field} of ${name} is missing`);
        }
        type.write(out, at + offset, value[field], `${path}.${field}`);
      }
    },
    read(input, at) {
      const record = {};
      for (const [field, offset, type] of fields) {
        const value = type.read(input, at + offset);
        if (field === "__proto__") {
          Object.defineProperty(record, field, {
            value,
            writable: true,
            enumerable: true,
            configurable: true,
          });
        } else {
          record[field] = value;
        }
      }
      return record;
    },
    describe(value) {
      const text = (item) => (typeof item === "bigint" ? `${item}n` : item);
      return `${name} ${JSON.stringify(value, (key, item) => text(item))}`;
    },
  };
}""",
    "enumType": """\
// An enum: a case is the number of the exported object (Shape.Square); its index
// crosses, in 1, 2 or 4 bytes.
function enumType(name, size, cases, values) {
  const indexes = new Map(values.map((value, index) => [value, index]));
  const bits = 8 * size;
  const type = {
    size,
    align: size,
    name,
    indexOf(value, what) {
      const index = indexes.get(value);
      if (index !== undefined && typeof value === "number") return index;
      const names = values.slice(0, 8).map((v) => `${name}.${cases[v]}`).join(", ");
      const more = values.length > 8 ? ", ..." : "";
      const got = typeof value === "number" ? String(value) : typeName(value);
      const hint =
        typeof value === "string" && typeof cases[value] === "number" && Object.hasOwn(cases, value)
          ? `; pass ${name}.${value}, the number ${cases[value]}`
          : "";
      throw new TypeError(`${what}: expected a ${name} (${names}${more}), got ${got}${hint}`);
    },
    caseAt(index, what) {
      if (index >= values.length) {
        throw badData(what, `case ${index} of ${name}, which has ${values.length} cases`);
      }
      return values[index];
    },
    write(out, at, value, path) {
      out.view[`setUint${bits}`](at, type.indexOf(value, out.where(path)), true);
    },
    read(input, at) {
      return type.caseAt(input.view[`getUint${bits}`](at, true), input.what);
    },
    describe(value) {
      return `${name}.${cases[value]}`;
    },
  };
  return type;
}""",
}

ENCODED: dict[str, str] = {**_BASICS, **_BUFFERS, **_TYPES}

REQUIRES: dict[str, tuple[str, ...]] = {
    "badData": (),
    "charCode": ("expected",),
    "charFrom": ("badData",),
    "Encoding": (),
    "encode": ("Encoding",),
    "lendEncoded": ("allocate", "memoryBytes"),
    "decodeBuffer": ("guestBytes", "badData"),
    "decodeAt": ("memoryView", "decodeBuffer"),
    "spanOf": ("badData",),
    "numberType": (),
    **{type_object(facts): ("numberType", check_name(facts)) for facts in NUMBER_FACTS},
    "boolType": ("checkBool", "badData"),
    "charType": ("charCode", "charFrom"),
    "stringType": ("checkText", "encoder", "decoder", "spanOf", "badData"),
    "listType": ("expected", "spanOf"),
    "numberListType": ("arrayOf", "spanOf"),
    "optionType": ("badData",),
    "tupleType": ("expected",),
    "recordType": ("expected",),
    "enumType": ("typeName", "badData"),
}
