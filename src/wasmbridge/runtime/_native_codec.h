/*
 * Encoded buffers in C (docs/abi-compound.md), included by _native.c.
 *
 * A `Codec` is built from the plan of a Python codec (runtime/bridge/compiled_codec.py):
 * integers, strings, lists, tuples and records, nested. It writes and reads exactly the
 * bytes and values the Python codecs of runtime/bridge/values.py do, for the values it
 * takes: exact ints, strs, lists and tuples, and instances of the record classes. Any
 * other value (a mapping for a record, a numpy integer, a bool where an int goes, an
 * out-of-range number, a str with a lone surrogate) is not encoded here: the caller then
 * encodes it with the Python codec, which takes it or raises the precise error. A buffer
 * that breaks the ABI decodes to "invalid", never to a value: the caller asks the Python
 * codec, which says what is wrong. So both paths accept and produce the same things.
 */

enum { NODE_INT, NODE_TEXT, NODE_LIST, NODE_TUPLE, NODE_RECORD };

#define CODEC_MAX_DEPTH 40
#define CODEC_MAX_NODES 4096
#define ENCODED_MAX 0x7fffffffu /* what OneShot can place in guest memory */

typedef struct CodecNode {
    int kind;
    uint32_t size, align; /* layout inside a buffer */
    int int_bytes;        /* NODE_INT: 1, 2, 4 or 8 */
    int is_signed;
    struct CodecNode *element;   /* NODE_LIST */
    Py_ssize_t count;            /* NODE_TUPLE, NODE_RECORD: fields */
    struct CodecNode **fields;
    uint32_t *offsets;
    PyTypeObject *record_class;  /* NODE_RECORD: borrowed from the plan, which is kept */
    PyObject *make;              /* NODE_RECORD: make(tuple of fields) -> record */
} CodecNode;

/* A u8 element: its lists are bytes on both sides. */
static int
is_u8(const CodecNode *node)
{
    return node->kind == NODE_INT && node->int_bytes == 1 && !node->is_signed;
}

typedef struct {
    PyObject_HEAD
    CodecNode *root;
    CodecNode *nodes; /* every node, one allocation */
    CodecNode **links; /* every fields array, one allocation */
    uint32_t *offsets;
    PyObject *plan;   /* owns the record classes and makers the nodes point to */
} CodecObject;

/* -- building from a plan ----------------------------------------------------------------
 *
 * A plan is nested tuples (compiled_codec.py):
 *   ("int", bytes, signed)   ("text",)   ("list", element)
 *   ("tuple", size, align, ((field, offset), ...))
 *   ("record", size, align, class, make, ((field, offset), ...))
 */

typedef struct {
    CodecNode *nodes;
    Py_ssize_t used, capacity;
    CodecNode **links;
    uint32_t *offsets;
    Py_ssize_t links_used, links_capacity;
} PlanBuilder;

static int
plan_count(PyObject *plan, int depth, Py_ssize_t *nodes, Py_ssize_t *links)
{
    if (depth > CODEC_MAX_DEPTH || !PyTuple_Check(plan) || PyTuple_GET_SIZE(plan) < 1 ||
        !PyUnicode_Check(PyTuple_GET_ITEM(plan, 0))) {
        PyErr_SetString(PyExc_ValueError, "a codec plan node is malformed or nested too deep");
        return 0;
    }
    if (++*nodes > CODEC_MAX_NODES) {
        PyErr_SetString(PyExc_ValueError, "a codec plan has too many nodes");
        return 0;
    }
    const char *kind = PyUnicode_AsUTF8(PyTuple_GET_ITEM(plan, 0));
    if (kind == NULL)
        return 0;
    Py_ssize_t n = PyTuple_GET_SIZE(plan);
    if (strcmp(kind, "list") == 0 && n == 2)
        return plan_count(PyTuple_GET_ITEM(plan, 1), depth + 1, nodes, links);
    PyObject *fields = NULL;
    if (strcmp(kind, "tuple") == 0 && n == 4)
        fields = PyTuple_GET_ITEM(plan, 3);
    else if (strcmp(kind, "record") == 0 && n == 6)
        fields = PyTuple_GET_ITEM(plan, 5);
    if (fields == NULL)
        return 1; /* a leaf; checked when built */
    if (!PyTuple_Check(fields) || PyTuple_GET_SIZE(fields) < 1) {
        PyErr_SetString(PyExc_ValueError, "a codec plan's fields are malformed");
        return 0;
    }
    *links += PyTuple_GET_SIZE(fields);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(fields); i++) {
        PyObject *pair = PyTuple_GET_ITEM(fields, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_ValueError, "a codec plan field is not (node, offset)");
            return 0;
        }
        if (!plan_count(PyTuple_GET_ITEM(pair, 0), depth + 1, nodes, links))
            return 0;
    }
    return 1;
}

static int
plan_u32(PyObject *item, uint32_t *into)
{
    unsigned long value = PyLong_AsUnsignedLong(item);
    if (value == (unsigned long)-1 && PyErr_Occurred())
        return 0;
    if (value > ENCODED_MAX) {
        PyErr_SetString(PyExc_ValueError, "a codec plan size is too large");
        return 0;
    }
    *into = (uint32_t)value;
    return 1;
}

static CodecNode *
plan_build(PlanBuilder *b, PyObject *plan)
{
    CodecNode *node = &b->nodes[b->used++];
    memset(node, 0, sizeof(*node));
    const char *kind = PyUnicode_AsUTF8(PyTuple_GET_ITEM(plan, 0));
    Py_ssize_t n = PyTuple_GET_SIZE(plan);
    PyObject *fields = NULL;
    if (strcmp(kind, "int") == 0 && n == 3) {
        long bytes = PyLong_AsLong(PyTuple_GET_ITEM(plan, 1));
        if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "an int node of 1, 2, 4 or 8 bytes");
            return NULL;
        }
        node->kind = NODE_INT;
        node->int_bytes = (int)bytes;
        node->is_signed = PyObject_IsTrue(PyTuple_GET_ITEM(plan, 2));
        if (node->is_signed < 0)
            return NULL;
        node->size = node->align = (uint32_t)bytes;
        return node;
    }
    if (strcmp(kind, "text") == 0 && n == 1) {
        node->kind = NODE_TEXT;
        node->size = 8;
        node->align = 4;
        return node;
    }
    if (strcmp(kind, "list") == 0 && n == 2) {
        node->kind = NODE_LIST;
        node->size = 8;
        node->align = 4;
        node->element = plan_build(b, PyTuple_GET_ITEM(plan, 1));
        return node->element == NULL ? NULL : node;
    }
    if (strcmp(kind, "tuple") == 0 && n == 4) {
        node->kind = NODE_TUPLE;
        fields = PyTuple_GET_ITEM(plan, 3);
    }
    else if (strcmp(kind, "record") == 0 && n == 6) {
        node->kind = NODE_RECORD;
        PyObject *cls = PyTuple_GET_ITEM(plan, 3);
        if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &PyTuple_Type) ||
            !PyCallable_Check(PyTuple_GET_ITEM(plan, 4))) {
            PyErr_SetString(PyExc_TypeError, "a record node needs a tuple class and a maker");
            return NULL;
        }
        node->record_class = (PyTypeObject *)cls;
        node->make = PyTuple_GET_ITEM(plan, 4);
        fields = PyTuple_GET_ITEM(plan, 5);
    }
    else {
        PyErr_Format(PyExc_ValueError, "unknown codec plan node %R", PyTuple_GET_ITEM(plan, 0));
        return NULL;
    }
    if (!plan_u32(PyTuple_GET_ITEM(plan, 1), &node->size) ||
        !plan_u32(PyTuple_GET_ITEM(plan, 2), &node->align))
        return NULL;
    node->count = PyTuple_GET_SIZE(fields);
    node->fields = &b->links[b->links_used];
    node->offsets = &b->offsets[b->links_used];
    b->links_used += node->count;
    for (Py_ssize_t i = 0; i < node->count; i++) {
        PyObject *pair = PyTuple_GET_ITEM(fields, i);
        CodecNode *field = plan_build(b, PyTuple_GET_ITEM(pair, 0));
        if (field == NULL || !plan_u32(PyTuple_GET_ITEM(pair, 1), &node->offsets[i]))
            return NULL;
        if ((uint64_t)node->offsets[i] + field->size > node->size) {
            PyErr_SetString(PyExc_ValueError, "a codec plan field lies outside its parent");
            return NULL;
        }
        node->fields[i] = field;
    }
    if (node->align == 0 || (node->align & (node->align - 1)) != 0 || node->size == 0) {
        PyErr_SetString(PyExc_ValueError, "a codec plan layout is malformed");
        return NULL;
    }
    return node;
}

static void
codec_dealloc(CodecObject *self)
{
    PyMem_Free(self->nodes);
    PyMem_Free(self->links);
    PyMem_Free(self->offsets);
    Py_XDECREF(self->plan);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
codec_init(CodecObject *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"plan", NULL};
    PyObject *plan;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!", names, &PyTuple_Type, &plan))
        return -1;
    if (self->nodes != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a Codec is built once");
        return -1;
    }
    Py_ssize_t nodes = 0, links = 0;
    if (!plan_count(plan, 0, &nodes, &links))
        return -1;
    PlanBuilder b = {0};
    b.capacity = nodes;
    b.links_capacity = links;
    b.nodes = PyMem_Calloc((size_t)nodes, sizeof(CodecNode));
    b.links = PyMem_Calloc((size_t)links + 1, sizeof(CodecNode *));
    b.offsets = PyMem_Calloc((size_t)links + 1, sizeof(uint32_t));
    self->nodes = b.nodes;
    self->links = b.links;
    self->offsets = b.offsets;
    if (b.nodes == NULL || b.links == NULL || b.offsets == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    CodecNode *root = plan_build(&b, plan);
    if (root == NULL)
        return -1;
    self->plan = Py_NewRef(plan);
    self->root = root; /* set last: a Codec without a root refuses to run */
    return 0;
}

/* Whether the codec was built (a bare Codec.__new__() or a failed __init__ was not). */
static int
codec_ready(const CodecObject *codec)
{
    if (codec->root == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "this Codec was not built from a plan");
        return 0;
    }
    return 1;
}

/* -- encoding --------------------------------------------------------------------------- */

typedef struct {
    uint8_t *data;
    size_t len, capacity;
} Encoded;

/* Zeroed room for `count` more bytes at the end, aligned to `align`; its offset, or -1
   (over ENCODED_MAX: not encoded here) or -2 (no memory: exception set). */
static int64_t
encoded_append(Encoded *out, size_t count, uint32_t align)
{
    size_t start = (out->len + align - 1) & ~((size_t)align - 1);
    if (count > ENCODED_MAX || start + count > ENCODED_MAX)
        return -1;
    size_t end = start + count;
    if (end > out->capacity) {
        size_t capacity = out->capacity ? out->capacity : 256;
        while (capacity < end)
            capacity *= 2;
        uint8_t *grown = PyMem_Realloc(out->data, capacity);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -2;
        }
        out->data = grown;
        out->capacity = capacity;
    }
    memset(out->data + out->len, 0, end - out->len);
    out->len = end;
    return (int64_t)start;
}

static void
put_u32_pair(Encoded *out, size_t at, uint64_t first, uint64_t second)
{
    for (int i = 0; i < 4; i++) {
        out->data[at + i] = (uint8_t)(first >> (8 * i));
        out->data[at + 4 + i] = (uint8_t)(second >> (8 * i));
    }
}

/* Writes `value` as `node` at `at`: 1 done, 0 not a value encoded here, -1 error set. */
static int
encode_node(const CodecNode *node, Encoded *out, size_t at, PyObject *value)
{
    switch (node->kind) {
    case NODE_INT: {
        if (!PyLong_CheckExact(value))
            return 0;
        uint64_t bits;
        int overflow = 0;
        if (node->is_signed) {
            long long n = PyLong_AsLongLongAndOverflow(value, &overflow);
            if (overflow || (n == -1 && PyErr_Occurred())) {
                PyErr_Clear();
                return 0;
            }
            int shift = 8 * node->int_bytes - 1;
            if (node->int_bytes < 8 && (n < -(1LL << shift) || n >= (1LL << shift)))
                return 0;
            bits = (uint64_t)n;
        }
        else {
            unsigned long long n = PyLong_AsUnsignedLongLong(value);
            if (n == (unsigned long long)-1 && PyErr_Occurred()) {
                PyErr_Clear();
                return 0;
            }
            if (node->int_bytes < 8 && n >> (8 * node->int_bytes))
                return 0;
            bits = n;
        }
        for (int i = 0; i < node->int_bytes; i++)
            out->data[at + i] = (uint8_t)(bits >> (8 * i));
        return 1;
    }
    case NODE_TEXT: {
        if (!PyUnicode_CheckExact(value))
            return 0;
        Py_ssize_t size;
        const char *text = PyUnicode_AsUTF8AndSize(value, &size);
        if (text == NULL) { /* a lone surrogate: the Python codec says so */
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
                return -1;
            PyErr_Clear();
            return 0;
        }
        int64_t start = encoded_append(out, (size_t)size, 1);
        if (start < 0)
            return start == -1 ? 0 : -1;
        memcpy(out->data + start, text, (size_t)size);
        put_u32_pair(out, at, (uint64_t)start, (uint64_t)size);
        return 1;
    }
    case NODE_LIST: {
        const CodecNode *element = node->element;
        if (is_u8(element) && (PyBytes_CheckExact(value) || PyByteArray_CheckExact(value))) {
            /* list<u8> from bytes: the bytes themselves */
            Py_ssize_t size = PyBytes_Check(value) ? PyBytes_GET_SIZE(value)
                                                   : PyByteArray_GET_SIZE(value);
            int64_t start = encoded_append(out, (size_t)size, 1);
            if (start < 0)
                return start == -1 ? 0 : -1;
            const char *bytes = PyBytes_Check(value) ? PyBytes_AS_STRING(value)
                                                     : PyByteArray_AS_STRING(value);
            memcpy(out->data + start, bytes, (size_t)size);
            put_u32_pair(out, at, (uint64_t)start, (uint64_t)size);
            return 1;
        }
        if (!PyList_CheckExact(value) && !PyTuple_CheckExact(value))
            return 0;
        /* A list may change while its items are encoded (a str's UTF-8 is cached, nothing
           else runs Python code here), but hold it anyway. */
        PyObject *items = PySequence_Fast(value, "");
        if (items == NULL)
            return -1;
        Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
        int done = 0;
        int64_t start = -1;
        if ((uint64_t)count * element->size <= ENCODED_MAX)
            start = encoded_append(out, (size_t)count * element->size, element->align);
        if (start == -2)
            done = -1;
        else if (start >= 0) {
            put_u32_pair(out, at, (uint64_t)start, (uint64_t)count);
            done = 1;
            for (Py_ssize_t i = 0; i < count && done == 1; i++)
                done = encode_node(element, out, (size_t)start + (size_t)i * element->size,
                                   PySequence_Fast_GET_ITEM(items, i));
        }
        Py_DECREF(items);
        return done;
    }
    case NODE_TUPLE:
    case NODE_RECORD: {
        PyObject *items;
        if (node->kind == NODE_RECORD) {
            if (Py_TYPE(value) != node->record_class)
                return 0;
            items = value; /* a record is a tuple of its fields */
        }
        else if (PyTuple_CheckExact(value) || PyList_CheckExact(value))
            items = value;
        else
            return 0;
        Py_INCREF(items);
        int done = 1;
        if (PySequence_Fast_GET_SIZE(items) != node->count)
            done = 0;
        for (Py_ssize_t i = 0; i < node->count && done == 1; i++)
            done = encode_node(node->fields[i], out, at + node->offsets[i],
                               PySequence_Fast_GET_ITEM(items, i));
        Py_DECREF(items);
        return done;
    }
    }
    return 0;
}

/* Encodes `value` (or, with `fields`, a tuple of the root record's fields): 1 done,
   0 not encoded here (out is freed), -1 error set. */
static int
codec_encode(const CodecObject *codec, PyObject *value, int fields, Encoded *out)
{
    const CodecNode *root = codec->root;
    out->data = NULL;
    out->len = out->capacity = 0;
    int done;
    if (encoded_append(out, root->size, 1) != 0)
        done = PyErr_Occurred() ? -1 : 0;
    else if (fields && root->kind == NODE_RECORD) {
        if (!PyTuple_CheckExact(value) || PyTuple_GET_SIZE(value) != root->count)
            done = 0;
        else {
            done = 1;
            for (Py_ssize_t i = 0; i < root->count && done == 1; i++)
                done = encode_node(root->fields[i], out, root->offsets[i],
                                   PyTuple_GET_ITEM(value, i));
        }
    }
    else
        done = encode_node(root, out, 0, value);
    if (done != 1) {
        PyMem_Free(out->data);
        out->data = NULL;
    }
    return done;
}

/* -- decoding --------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *buf;
    uint64_t len;
    uint64_t budget; /* bytes the strings and lists may still claim (abi-compound.md) */
} Decoding;

static uint64_t
read_u32(const uint8_t *at)
{
    return (uint64_t)at[0] | (uint64_t)at[1] << 8 | (uint64_t)at[2] << 16 |
           (uint64_t)at[3] << 24;
}

static int
claim(Decoding *d, uint64_t count)
{
    if (count > d->budget)
        return 0;
    d->budget -= count;
    return 1;
}

/* The value of `node` at `at` (inside the buffer), or NULL: with an exception set, an
   error; without, the buffer breaks the ABI. */
static PyObject *
decode_node(const CodecNode *node, Decoding *d, uint64_t at)
{
    const uint8_t *here = d->buf + at;
    switch (node->kind) {
    case NODE_INT: {
        uint64_t bits = 0;
        for (int i = 0; i < node->int_bytes; i++)
            bits |= (uint64_t)here[i] << (8 * i);
        if (!node->is_signed)
            return PyLong_FromUnsignedLongLong(bits);
        int unused = 64 - 8 * node->int_bytes;
        int64_t n = unused ? (int64_t)(bits << unused) >> unused : (int64_t)bits;
        return PyLong_FromLongLong(n);
    }
    case NODE_TEXT: {
        uint64_t off = read_u32(here), count = read_u32(here + 4);
        if (off + count > d->len || !claim(d, count))
            return NULL;
        PyObject *text = PyUnicode_DecodeUTF8((const char *)d->buf + off, (Py_ssize_t)count,
                                              NULL);
        if (text == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
            PyErr_Clear();
        return text;
    }
    case NODE_LIST: {
        const CodecNode *element = node->element;
        uint64_t off = read_u32(here), count = read_u32(here + 4);
        uint64_t end = off + count * element->size;
        if (end > d->len || !claim(d, end - off))
            return NULL;
        if (is_u8(element)) /* list<u8> is bytes, as in the Python codec */
            return PyBytes_FromStringAndSize((const char *)d->buf + off, (Py_ssize_t)count);
        PyObject *list = PyList_New((Py_ssize_t)count);
        if (list == NULL)
            return NULL;
        for (uint64_t i = 0; i < count; i++) {
            PyObject *item = decode_node(element, d, off + i * element->size);
            if (item == NULL) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, (Py_ssize_t)i, item);
        }
        return list;
    }
    case NODE_TUPLE:
    case NODE_RECORD: {
        PyObject *items = PyTuple_New(node->count);
        if (items == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < node->count; i++) {
            PyObject *item = decode_node(node->fields[i], d, at + node->offsets[i]);
            if (item == NULL) {
                Py_DECREF(items);
                return NULL;
            }
            PyTuple_SET_ITEM(items, i, item);
        }
        if (node->kind == NODE_TUPLE)
            return items;
        PyObject *record = PyObject_CallOneArg(node->make, items);
        Py_DECREF(items);
        return record;
    }
    }
    return NULL;
}

/* The value a buffer holds, or NULL: with an exception set, an error; without, invalid. */
static PyObject *
codec_decode(const CodecObject *codec, const uint8_t *buf, uint64_t len)
{
    if (len < codec->root->size)
        return NULL;
    Decoding d = {buf, len, len};
    return decode_node(codec->root, &d, 0);
}

/* -- the Python type -------------------------------------------------------------------- */

static PyObject *
codec_py_encode(CodecObject *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"value", "fields", NULL};
    PyObject *value;
    int fields = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p", names, &value, &fields) ||
        !codec_ready(self))
        return NULL;
    Encoded out;
    int done = codec_encode(self, value, fields, &out);
    if (done < 0)
        return NULL;
    if (done == 0)
        Py_RETURN_NONE;
    PyObject *bytes = PyByteArray_FromStringAndSize((const char *)out.data, (Py_ssize_t)out.len);
    PyMem_Free(out.data);
    return bytes;
}

static PyObject *
codec_py_decode(CodecObject *self, PyObject *arg)
{
    Py_buffer view;
    if (!codec_ready(self) || PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *value = codec_decode(self, view.buf, (uint64_t)view.len);
    PyBuffer_Release(&view);
    if (value == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;
    return value;
}

static PyMethodDef codec_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))codec_py_encode, METH_VARARGS | METH_KEYWORDS,
     "encode(value, fields=False) -> bytearray | None: the encoded buffer, or None when "
     "the value is not one encoded here (encode it with the Python codec). fields: value "
     "is a tuple of the root record's fields."},
    {"decode", (PyCFunction)codec_py_decode, METH_O,
     "decode(buffer) -> value | None: the value, or None when the buffer breaks the ABI "
     "(the Python codec says how)."},
    {NULL},
};

static PyTypeObject CodecType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wasmbridge.runtime._native.Codec",
    .tp_basicsize = sizeof(CodecObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Encoded buffers of one interface type (runtime/bridge/compiled_codec.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)codec_init,
    .tp_dealloc = (destructor)codec_dealloc,
    .tp_methods = codec_methods,
};
