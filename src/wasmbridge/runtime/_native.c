/*
 * wasmbridge.runtime._native: the compiled call path (optional).
 *
 * A `Caller` runs one export's call plan in C: numbers, bools, `&str` and
 * lent slices (`&[T]`, `&mut [T]` of numbers, from any C-contiguous buffer of
 * their format) lowered (text and buffers copied into the instance's scratch
 * arena, `&mut` ones copied back), the unchecked call with the GIL released, the result
 * lifted (numbers, bools, text, bytes). Everything else it hands, untouched,
 * to the export's generated Python caller (its `fallback`): keyword
 * arguments, another argument type, a busy or closed instance, a full arena,
 * and every error message. So both paths behave the same by construction.
 *
 * wasmtime is never linked here: `init()` receives the addresses of the C
 * functions of the wasmtime library wasmtime-py already loaded. The
 * layouts used below (wasmtime_val_raw_t) are those of wasmtime 50, which
 * `init()` checks. `Arena` is the storage of the scratch arena's positions
 * (runtime/bridge/memory.py subclasses it), read and written here without
 * a Python attribute lookup.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define WASMTIME_MAJOR 50
#define MAX_SLOTS 16

typedef union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    uint8_t v128[16];
    void *ref;
} val_raw;  /* wasmtime_val_raw_t */

typedef void *(*call_unchecked_fn)(void *ctx, const void *func, val_raw *args, size_t nargs,
                                   void **trap);
typedef size_t (*memory_size_fn)(const void *ctx, const void *memory);

static call_unchecked_fn call_unchecked = NULL;
static memory_size_fn memory_data_size = NULL;
static int release_gil = 1;
/* The largest wasm stack the current thread was checked to hold (see Caller.need_stack).
   initial-exec: read with one load, not a call to __tls_get_addr, on every call. */
#if defined(__GNUC__)
static _Thread_local size_t checked_stack __attribute__((tls_model("initial-exec"))) = 0;
#else
static _Thread_local size_t checked_stack = 0;
#endif

#include "_native_codec.h"

/* -- Arena: start, top, end, busy of one instance's scratch arena ---------------------- */

typedef struct {
    PyObject_HEAD
    Py_ssize_t start;
    Py_ssize_t top;
    Py_ssize_t end;
    Py_ssize_t busy;
} ArenaObject;

static PyMemberDef arena_members[] = {
    {"start", T_PYSSIZET, offsetof(ArenaObject, start), 0, "first byte (0: not allocated yet)"},
    {"top", T_PYSSIZET, offsetof(ArenaObject, top), 0, "first free byte"},
    {"end", T_PYSSIZET, offsetof(ArenaObject, end), 0, "one past the last byte"},
    {"busy", T_PYSSIZET, offsetof(ArenaObject, busy), 0, "host imports running"},
    {NULL},
};

static PyTypeObject ArenaType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wasmbridge.runtime._native.Arena",
    .tp_basicsize = sizeof(ArenaObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The positions of a scratch arena in guest memory (memory.Arena's storage).",
    .tp_members = arena_members,
    .tp_new = PyType_GenericNew,
};

/* -- Caller ------------------------------------------------------------------------------- */

/* Parameter codes. */
enum {
    P_INT = 'n',   /* an integer carried in an i32, range-checked */
    P_I64 = 'q',
    P_U64 = 'Q',
    P_F32 = 'f',
    P_F64 = 'd',
    P_BOOL = '?',
    P_TEXT = 's',  /* &str: UTF-8 in the arena, (ptr, len) */
    P_BYTES = 'y', /* &[u8]: any C-contiguous buffer in the arena, (ptr, len in bytes) */
    P_ELEMS = 'e', /* &[T]: a buffer of T's format in the arena, (ptr, len in elements) */
    P_MUT = 'm',   /* &mut [T]: the same, writable, copied back after the call */
};

/* Result codes. */
enum {
    R_NONE = 'v',
    R_INT = 'n',   /* an i32 carrier: `bits` wide, signed or not */
    R_I64 = 'q',
    R_U64 = 'Q',
    R_F32 = 'f',
    R_F64 = 'd',
    R_BOOL = '?',
    R_TEXT = 's',  /* (ptr, len) in the return area */
    R_BYTES = 'y',
};

typedef struct {
    char code;
    int slot;
    long long low, high; /* P_INT */
    Py_ssize_t align;    /* buffers: the element size */
    char formats[8];     /* P_ELEMS, P_MUT: accepted struct formats ("" for u8: any) */
} Param;

/* What lowering a parameter left to undo or finish after the call. */
typedef struct {
    Py_buffer view;
    int held;          /* view is a buffer to release */
    Py_ssize_t placed; /* P_MUT: where the guest's copy lives */
} Lent;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *dict;
    void *ctx;
    const void *func;     /* wasmtime_func_t, kept alive by `keep` */
    const void *memory;   /* wasmtime_memory_t or NULL, kept alive by `keep` */
    uint8_t *base;        /* linear memory (never moves: engine/settings.py) */
    ArenaObject *arena;   /* NULL when the plan uses no memory */
    PyObject *tokens;     /* the instance's call token list */
    PyObject *fallback;   /* the generated Python caller */
    PyObject *fail;       /* fail(name, args, error, trap_address) -> exception */
    PyObject *name;
    PyObject *before;     /* arms per-call limits, or NULL */
    PyObject *check_thread; /* refuses a thread whose stack is too small, or NULL */
    PyObject *lift;       /* lift(at): a text or bytes result the long way (its errors) */
    PyObject *keep;
    PyObject *guest_array; /* the GuestArray class: passed without a copy by the Python caller */
    size_t need_stack;
    Py_ssize_t nparams;
    size_t nslots;
    int retptr;
    char result;
    int result_bits;
    int result_signed;
    Param params[MAX_SLOTS];
} CallerObject;

static int
caller_traverse(CallerObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->dict);
    Py_VISIT(self->arena);
    Py_VISIT(self->tokens);
    Py_VISIT(self->fallback);
    Py_VISIT(self->fail);
    Py_VISIT(self->name);
    Py_VISIT(self->before);
    Py_VISIT(self->check_thread);
    Py_VISIT(self->lift);
    Py_VISIT(self->keep);
    Py_VISIT(self->guest_array);
    return 0;
}

static int
caller_clear(CallerObject *self)
{
    Py_CLEAR(self->dict);
    Py_CLEAR(self->arena);
    Py_CLEAR(self->tokens);
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->fail);
    Py_CLEAR(self->name);
    Py_CLEAR(self->before);
    Py_CLEAR(self->check_thread);
    Py_CLEAR(self->lift);
    Py_CLEAR(self->keep);
    Py_CLEAR(self->guest_array);
    return 0;
}

static void
caller_dealloc(CallerObject *self)
{
    PyObject_GC_UnTrack(self);
    caller_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The generated Python caller does the whole call: same arguments, same keywords. */
static PyObject *
fallback(CallerObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

/* Put `count` bytes at `data` into the arena, aligned to `align`; at `*placed`, 0 (nothing
   changed) when they do not fit. An empty buffer is a dangling, aligned, non-null pointer. */
static int
place(CallerObject *self, const void *data, Py_ssize_t count, Py_ssize_t align,
      Py_ssize_t *placed)
{
    ArenaObject *arena = self->arena;
    Py_ssize_t at = align;
    if (count) {
        at = (arena->top + align - 1) & -align;
        if (at > arena->end || count > arena->end - at)
            return 0;
        memcpy(self->base + at, data, (size_t)count);
        arena->top = at + count;
    }
    *placed = at;
    return 1;
}

static void
store_pair(val_raw *vals, int slot, Py_ssize_t ptr, Py_ssize_t count)
{
    vals[slot].i32 = (int32_t)(uint32_t)ptr;
    vals[slot + 1].i32 = (int32_t)(uint32_t)count;
}

/* A buffer argument (not bytes or bytearray): C-contiguous, of an accepted format. */
static int
lower_buffer(CallerObject *self, const Param *p, PyObject *value, val_raw *vals, Lent *lent)
{
    if (Py_IS_TYPE(value, (PyTypeObject *)self->guest_array) || PyUnicode_Check(value))
        return 0;
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (p->code == P_MUT ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(value, &lent->view, flags) < 0) {
        PyErr_Clear(); /* not a buffer, read-only, strided: the Python caller decides */
        return 0;
    }
    lent->held = 1;
    if (p->formats[0]) {
        const char *format = lent->view.format ? lent->view.format : "B";
        while (*format == '@' || *format == '=' || *format == '<')
            format++;
        if (format[0] == 0 || format[1] != 0 || !strchr(p->formats, format[0]))
            return 0;
    }
    Py_ssize_t count = lent->view.len;
    if (!place(self, lent->view.buf, count, p->align, &lent->placed))
        return 0;
    store_pair(vals, p->slot, lent->placed, p->code == P_BYTES ? count : count / p->align);
    return 1;
}

/* Lower argument `value` as `p`; 0 when the Python caller must take the call. */
/* An exact int that fits a long long, into `*n`; 0 (no error set) for anything else. */
static int
exact_long_long(PyObject *value, long long *n)
{
    if (!PyLong_CheckExact(value))
        return 0;
    int overflow;
    *n = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (*n == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

static int
lower(CallerObject *self, const Param *p, PyObject *value, val_raw *vals, Lent *lent)
{
    Py_ssize_t placed;
    val_raw *v = &vals[p->slot];
    switch (p->code) {
    case P_INT: {
        long long n;
        if (!exact_long_long(value, &n) || n < p->low || n > p->high)
            return 0;
        v->i32 = (int32_t)(uint32_t)(unsigned long long)n;
        return 1;
    }
    case P_I64: {
        long long n;
        if (!exact_long_long(value, &n))
            return 0;
        v->i64 = (int64_t)n;
        return 1;
    }
    case P_U64: {
        if (!PyLong_CheckExact(value))
            return 0;
        unsigned long long n = PyLong_AsUnsignedLongLong(value);
        if (n == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        v->i64 = (int64_t)n;
        return 1;
    }
    case P_F32: {
        if (!PyFloat_CheckExact(value))
            return 0;
        double d = PyFloat_AS_DOUBLE(value);
        float f = (float)d;
        if (isinf(f) && !isinf(d))
            return 0; /* too large for f32: the Python caller's OverflowError */
        memset(v, 0, sizeof *v);
        v->f32 = f;
        return 1;
    }
    case P_F64:
        if (!PyFloat_CheckExact(value))
            return 0;
        v->f64 = PyFloat_AS_DOUBLE(value);
        return 1;
    case P_BOOL:
        if (value == Py_True)
            v->i32 = 1;
        else if (value == Py_False)
            v->i32 = 0;
        else
            return 0;
        return 1;
    case P_TEXT: {
        if (!PyUnicode_CheckExact(value))
            return 0;
        /* Too long for the arena (UTF-8 takes a byte or more a character): the Python
           caller allocates, and no UTF-8 copy is cached on the string for nothing. */
        if (PyUnicode_GET_LENGTH(value) > self->arena->end - self->arena->top)
            return 0;
        Py_ssize_t count;
        const char *data = PyUnicode_AsUTF8AndSize(value, &count);
        if (data == NULL) { /* lone surrogates: the Python caller words the error */
            PyErr_Clear();
            return 0;
        }
        if (!place(self, data, count, 1, &placed))
            return 0;
        store_pair(vals, p->slot, placed, count);
        return 1;
    }
    case P_BYTES:
        if (PyBytes_CheckExact(value)) {
            Py_ssize_t count = PyBytes_GET_SIZE(value);
            if (!place(self, PyBytes_AS_STRING(value), count, 1, &placed))
                return 0;
            store_pair(vals, p->slot, placed, count);
            return 1;
        }
        return lower_buffer(self, p, value, vals, lent);
    case P_ELEMS:
    case P_MUT:
        return lower_buffer(self, p, value, vals, lent);
    }
    return 0;
}

/* Release what lowering holds (every exit path). */
static void
release(Lent *lent, Py_ssize_t count)
{
    for (Py_ssize_t i = 0; i < count; i++) {
        if (lent[i].held) {
            PyBuffer_Release(&lent[i].view);
            lent[i].held = 0;
        }
    }
}

static PyObject *
lift_int(const CallerObject *self, int32_t raw)
{
    int bits = self->result_bits;
    if (self->result_signed) {
        if (bits < 32) {
            uint32_t sign = 1u << (bits - 1);
            uint32_t low = (uint32_t)raw & ((1u << bits) - 1);
            return PyLong_FromLong((long)(int32_t)((low ^ sign) - sign));
        }
        return PyLong_FromLong((long)raw);
    }
    uint32_t value = (uint32_t)raw;
    if (bits < 32)
        value &= (1u << bits) - 1;
    return PyLong_FromUnsignedLong((unsigned long)value);
}

/* A text or bytes result: (ptr, len) at `at`, copied out when it lies inside memory. */
static PyObject *
lift_buffer(CallerObject *self, Py_ssize_t at)
{
    uint32_t pair[2];
    memcpy(pair, self->base + at, sizeof pair);
    size_t ptr = pair[0], count = pair[1];
    if (count == 0)
        return self->result == R_TEXT ? PyUnicode_FromStringAndSize(NULL, 0)
                                      : PyBytes_FromStringAndSize(NULL, 0);
    size_t size = memory_data_size(self->ctx, self->memory);
    if (ptr <= size && count <= size - ptr) {
        const char *data = (const char *)self->base + ptr;
        if (self->result == R_BYTES)
            return PyBytes_FromStringAndSize(data, (Py_ssize_t)count);
        PyObject *text = PyUnicode_DecodeUTF8(data, (Py_ssize_t)count, NULL);
        if (text != NULL || !PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
            return text;
        PyErr_Clear();
    }
    /* Outside memory, or not UTF-8: the Python lifter raises the error it deserves. */
    PyObject *where = PyLong_FromSsize_t(at);
    if (where == NULL)
        return NULL;
    PyObject *found = PyObject_CallOneArg(self->lift, where);
    Py_DECREF(where);
    return found;
}

static PyObject *
lift_result(CallerObject *self, const val_raw *vals, Py_ssize_t retarea)
{
    switch (self->result) {
    case R_NONE:
        Py_RETURN_NONE;
    case R_INT:
        return lift_int(self, vals[0].i32);
    case R_I64:
        return PyLong_FromLongLong((long long)vals[0].i64);
    case R_U64:
        return PyLong_FromUnsignedLongLong((unsigned long long)(uint64_t)vals[0].i64);
    case R_F32:
        return PyFloat_FromDouble((double)vals[0].f32);
    case R_F64:
        return PyFloat_FromDouble(vals[0].f64);
    case R_BOOL:
        return PyBool_FromLong(vals[0].i32 != 0);
    case R_TEXT:
    case R_BYTES:
        return lift_buffer(self, retarea);
    }
    PyErr_SetString(PyExc_SystemError, "wasmbridge: unknown result code");
    return NULL;
}

/* The exception `fail()` makes for a trap or error, set as the current one. */
static void
raise_failure(CallerObject *self, PyObject *const *args, Py_ssize_t nargs, void *error,
              void **trap)
{
    PyObject *argtuple = PyTuple_New(nargs);
    if (argtuple == NULL)
        return;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        Py_INCREF(args[i]);
        PyTuple_SET_ITEM(argtuple, i, args[i]);
    }
    PyObject *err = error ? PyLong_FromVoidPtr(error) : Py_NewRef(Py_None);
    PyObject *where = PyLong_FromVoidPtr((void *)trap);
    PyObject *exc = NULL;
    if (err != NULL && where != NULL)
        exc = PyObject_CallFunctionObjArgs(self->fail, self->name, argtuple, err, where, NULL);
    Py_XDECREF(err);
    Py_XDECREF(where);
    Py_DECREF(argtuple);
    if (exc == NULL)
        return; /* fail() itself raised: that exception stands */
    if (PyExceptionInstance_Check(exc))
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    else
        PyErr_SetString(PyExc_SystemError, "wasmbridge: fail() returned no exception");
    Py_DECREF(exc);
}

static PyObject *
caller_call(CallerObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL || nargs != self->nparams)
        return fallback(self, args, nargsf, kwnames);
    if (self->check_thread != NULL && checked_stack < self->need_stack) {
        PyObject *ok = PyObject_CallNoArgs(self->check_thread);
        if (ok == NULL)
            return NULL;
        Py_DECREF(ok);
        checked_stack = self->need_stack;
    }
    /* Take the call token (a list holding one object while the instance is idle). */
    PyListObject *tokens = (PyListObject *)self->tokens;
    Py_ssize_t count = PyList_GET_SIZE(tokens);
    if (count == 0)
        return fallback(self, args, nargsf, kwnames); /* busy, nested or closed */
    PyObject *token = PyList_GET_ITEM(tokens, count - 1); /* its reference is ours now */
    Py_SET_SIZE(tokens, count - 1);

    ArenaObject *arena = self->arena;
    Py_ssize_t mark = 0, retarea = 0;
    if (arena != NULL) {
        if (arena->start == 0)
            goto give_back; /* the instance's first call with memory opens the arena */
        mark = arena->top;
        retarea = arena->start;
    }
    val_raw vals[MAX_SLOTS];
    Lent lent[MAX_SLOTS];
    for (Py_ssize_t i = 0; i < nargs; i++) {
        lent[i].held = 0;
        if (!lower(self, &self->params[i], args[i], vals, &lent[i])) {
            release(lent, i + 1);
            goto give_back;
        }
    }
    if (self->retptr)
        vals[0].i32 = (int32_t)(uint32_t)retarea;

    PyObject *result = NULL;
    if (self->before != NULL) {
        PyObject *ok = PyObject_CallNoArgs(self->before);
        if (ok == NULL)
            goto done;
        Py_DECREF(ok);
    }
    void *trap = NULL, *error;
    if (release_gil) {
        Py_BEGIN_ALLOW_THREADS
        error = call_unchecked(self->ctx, self->func, vals, self->nslots, &trap);
        Py_END_ALLOW_THREADS
    }
    else {
        error = call_unchecked(self->ctx, self->func, vals, self->nslots, &trap);
    }
    if (error != NULL || trap != NULL) {
        raise_failure(self, args, nargs, error, &trap);
        goto done;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) { /* &mut [T]: the guest's copy, back */
        if (self->params[i].code == P_MUT && lent[i].view.len)
            memcpy(lent[i].view.buf, self->base + lent[i].placed, (size_t)lent[i].view.len);
    }
    result = lift_result(self, vals, retarea);
done:
    release(lent, nargs);
    if (arena != NULL)
        arena->top = mark;
    if (PyList_Append((PyObject *)tokens, token) < 0) {
        Py_CLEAR(result);
    }
    Py_DECREF(token);
    return result;

give_back:
    if (arena != NULL && arena->start != 0)
        arena->top = mark;
    if (PyList_Append((PyObject *)tokens, token) < 0) {
        Py_DECREF(token);
        return NULL;
    }
    Py_DECREF(token);
    return fallback(self, args, nargsf, kwnames);
}

static PyObject *
caller_tp_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    return PyVectorcall_Call(self, args, kwargs);
}

static int
parse_params(CallerObject *self, PyObject *params)
{
    if (!PyTuple_Check(params) || PyTuple_GET_SIZE(params) > MAX_SLOTS) {
        PyErr_SetString(PyExc_ValueError, "params: a tuple of at most 16 (code, slot, low, high)");
        return -1;
    }
    self->nparams = PyTuple_GET_SIZE(params);
    for (Py_ssize_t i = 0; i < self->nparams; i++) {
        Param *p = &self->params[i];
        int code;
        const char *formats;
        Py_ssize_t nformats;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(params, i), "CiLLns#", &code, &p->slot, &p->low,
                              &p->high, &p->align, &formats, &nformats))
            return -1;
        p->code = (char)code;
        int width = strchr("syem", code) ? 2 : 1;
        if (!strchr("nqQfd?syem", code) || p->slot < 0 ||
            (size_t)(p->slot + width) > self->nslots || p->align < 1 || p->align > 8 ||
            (p->align & (p->align - 1)) || nformats >= (Py_ssize_t)sizeof p->formats) {
            PyErr_Format(PyExc_ValueError, "params[%zd]: bad code, slot, alignment or formats",
                         i);
            return -1;
        }
        memcpy(p->formats, formats, (size_t)nformats);
        p->formats[nformats] = 0;
        if (width == 2 && self->arena == NULL) {
            PyErr_SetString(PyExc_ValueError, "text and buffer parameters need an arena");
            return -1;
        }
    }
    return 0;
}

static PyObject *
caller_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"ctx", "func", "nslots", "params", "result", "result_bits",
                            "result_signed", "retptr", "tokens", "fallback", "fail", "name",
                            "before", "check_thread", "need_stack", "memory", "base", "arena",
                            "lift", "keep", "guest_array", NULL};
    unsigned long long ctx, func, memory, base;
    Py_ssize_t nslots, need_stack;
    int result, bits, is_signed, retptr;
    PyObject *params, *tokens, *fallback_, *fail, *name, *before, *check_thread, *arena, *lift,
        *keep, *guest_array;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "KKnO!CippO!OOUOOnKKOOOO!", names, &ctx,
                                     &func, &nslots, &PyTuple_Type, &params, &result, &bits,
                                     &is_signed, &retptr, &PyList_Type, &tokens, &fallback_, &fail,
                                     &name, &before, &check_thread, &need_stack, &memory, &base,
                                     &arena, &lift, &keep, &PyType_Type, &guest_array))
        return NULL;
    if (call_unchecked == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "wasmbridge._native: init() has not run");
        return NULL;
    }
    if (nslots < 1 || nslots > MAX_SLOTS || !strchr("vnqQfd?sy", result) || bits < 1 ||
        bits > 32 || (arena != Py_None && !PyObject_TypeCheck(arena, &ArenaType)) ||
        ((result == R_TEXT || result == R_BYTES) && (arena == Py_None || !retptr || !memory))) {
        PyErr_SetString(PyExc_ValueError, "wasmbridge._native.Caller: inconsistent plan");
        return NULL;
    }
    CallerObject *self = (CallerObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = (vectorcallfunc)caller_call;
    self->ctx = (void *)(uintptr_t)ctx;
    self->func = (const void *)(uintptr_t)func;
    self->memory = (const void *)(uintptr_t)memory;
    self->base = (uint8_t *)(uintptr_t)base;
    self->nslots = (size_t)nslots;
    self->result = (char)result;
    self->result_bits = bits;
    self->result_signed = is_signed;
    self->retptr = retptr;
    self->need_stack = (size_t)need_stack;
    self->arena = arena == Py_None ? NULL : (ArenaObject *)Py_NewRef(arena);
    self->tokens = Py_NewRef(tokens);
    self->fallback = Py_NewRef(fallback_);
    self->fail = Py_NewRef(fail);
    self->name = Py_NewRef(name);
    self->before = before == Py_None ? NULL : Py_NewRef(before);
    self->check_thread = check_thread == Py_None ? NULL : Py_NewRef(check_thread);
    self->lift = Py_NewRef(lift);
    self->keep = Py_NewRef(keep);
    self->guest_array = Py_NewRef(guest_array);
    if (parse_params(self, params) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *
caller_repr(CallerObject *self)
{
    return PyUnicode_FromFormat("<wasmbridge export %U (compiled call path)>", self->name);
}

static PyObject *
caller_get_fallback(CallerObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->fallback);
}

static PyGetSetDef caller_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {"fallback", (getter)caller_get_fallback, NULL, "the generated Python caller", NULL},
    {NULL},
};

static PyTypeObject CallerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wasmbridge.runtime._native.Caller",
    .tp_basicsize = sizeof(CallerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "One export's call plan, run in C (runtime/bridge/native.py makes them).",
    .tp_new = caller_new,
    .tp_dealloc = (destructor)caller_dealloc,
    .tp_traverse = (traverseproc)caller_traverse,
    .tp_clear = (inquiry)caller_clear,
    .tp_call = caller_tp_call,
    .tp_vectorcall_offset = offsetof(CallerObject, vectorcall),
    .tp_dictoffset = offsetof(CallerObject, dict),
    .tp_getset = caller_getset,
    .tp_repr = (reprfunc)caller_repr,
};

/* -- OneShot: one call in a fresh instance, made, called and deleted here ---------------
 *
 * For serving (serve/oneshot.py): a store, an instance of a pre-linked module, the
 * handler called with one encoded buffer, its encoded result copied out, the store
 * deleted, all without Python in between, with the GIL released while the guest runs.
 * Anything that is not a clean answer (a trap, the time limit, a missing export, a
 * result outside memory) comes back as a code: the caller decides what it means.
 * The addresses of the wasmtime functions and the layouts of wasmtime_instance_t and
 * wasmtime_extern_t come from `init_oneshot()`, read off wasmtime-py's declarations.
 */

typedef void *(*store_new_fn)(void *engine, void *data, void (*finalizer)(void *));
typedef void *(*store_context_fn)(void *store);
typedef void (*store_delete_fn)(void *store);
typedef void (*store_limiter_fn)(void *store, int64_t memory_size, int64_t table_elements,
                                 int64_t instances, int64_t tables, int64_t memories);
typedef void (*set_deadline_fn)(void *ctx, uint64_t ticks_beyond_current);
typedef void *(*deadline_callback_fn)(void *ctx, void *data, uint64_t *delta, uint8_t *kind);
typedef void (*set_deadline_callback_fn)(void *store, deadline_callback_fn callback, void *data,
                                         void (*finalizer)(void *));
typedef void *(*pre_instantiate_fn)(const void *pre, void *ctx, void *instance, void **trap);
typedef _Bool (*export_get_fn)(void *ctx, const void *instance, const char *name, size_t len,
                               void *item);
typedef uint8_t *(*memory_data_fn)(const void *ctx, const void *memory);
typedef void (*delete_fn)(void *);
typedef void *(*error_new_fn)(const char *message);

static struct {
    store_new_fn store_new;
    store_context_fn store_context;
    store_delete_fn store_delete;
    store_limiter_fn store_limiter;
    set_deadline_fn set_deadline;
    set_deadline_callback_fn set_deadline_callback;
    pre_instantiate_fn pre_instantiate;
    export_get_fn export_get;
    memory_data_fn memory_data;
    delete_fn error_delete;
    delete_fn trap_delete;
    error_new_fn error_new;
    size_t instance_size; /* sizeof(wasmtime_instance_t) */
    size_t extern_size;   /* sizeof(wasmtime_extern_t) */
    size_t extern_of;     /* offsetof(wasmtime_extern_t, of) */
    uint8_t kind_func, kind_memory;
    int ready;
} ws;

#define ITEM_BYTES 64
#define NAME_BYTES 64

/* What a OneShot.run() call came to (6: a result over max_result, not read). */
enum { ONESHOT_OK = 0, ONESHOT_TRAP = 1, ONESHOT_TIMEOUT = 2, ONESHOT_BROKEN = 3,
       ONESHOT_TOO_LARGE = 6 };

typedef struct {
    PyObject_HEAD
    void *engine;
    const void *pre;
    int64_t caps[5]; /* the store limiter's: memory bytes, table elements, instances,
                        tables, memories (-1: no cap) */
    int epoch;       /* the engine checks epochs: a deadline must be set, or the guest traps */
    char handler[NAME_BYTES];
    char alloc[NAME_BYTES];
    long long max_result; /* the largest encoded result decoded or copied out (-1: any) */
    PyObject *keep;  /* whatever owns the engine and the pre-linked module */
} OneShotObject;

typedef struct {
    double deadline; /* CLOCK_MONOTONIC seconds, as time.monotonic() */
    int timed_out;
} OneShotCall;

static double
monotonic_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* At each epoch tick while the guest runs: go on until the deadline, then stop it. */
static void *
oneshot_deadline(void *Py_UNUSED(ctx), void *data, uint64_t *delta, uint8_t *kind)
{
    OneShotCall *call = (OneShotCall *)data;
    if (monotonic_now() < call->deadline) {
        *delta = 1;
        *kind = 0; /* continue */
        return NULL;
    }
    call->timed_out = 1;
    return ws.error_new("wasmbridge: time limit");
}

static void
oneshot_dealloc(OneShotObject *self)
{
    Py_XDECREF(self->keep);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
copy_name(char *into, PyObject *name, const char *what)
{
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(name, &size);
    if (text == NULL)
        return 0;
    if (size <= 0 || size >= NAME_BYTES) {
        PyErr_Format(PyExc_ValueError, "%s: a name of 1 to %d bytes", what, NAME_BYTES - 1);
        return 0;
    }
    memcpy(into, text, (size_t)size + 1);
    return 1;
}

static int
oneshot_init(OneShotObject *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"engine", "pre",  "caps",       "epoch", "handler",
                            "alloc",  "keep", "max_result", NULL};
    unsigned long long engine, pre;
    PyObject *caps, *handler, *alloc, *keep;
    int epoch;
    long long max_result = -1;
    if (!ws.ready) {
        PyErr_SetString(PyExc_RuntimeError, "call init_oneshot() first");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "KKOpUUO|L", names, &engine, &pre, &caps,
                                     &epoch, &handler, &alloc, &keep, &max_result))
        return -1;
    if (!engine || !pre) {
        PyErr_SetString(PyExc_ValueError, "an engine or module address is 0");
        return -1;
    }
    if (!PyTuple_Check(caps) || PyTuple_GET_SIZE(caps) != 5) {
        PyErr_SetString(PyExc_TypeError, "caps: a tuple of 5 ints");
        return -1;
    }
    for (int i = 0; i < 5; i++) {
        long long cap = PyLong_AsLongLong(PyTuple_GET_ITEM(caps, i));
        if (cap == -1 && PyErr_Occurred())
            return -1;
        self->caps[i] = cap;
    }
    if (!copy_name(self->handler, handler, "handler") || !copy_name(self->alloc, alloc, "alloc"))
        return -1;
    self->engine = (void *)(uintptr_t)engine;
    self->pre = (const void *)(uintptr_t)pre;
    self->epoch = epoch;
    self->max_result = max_result;
    Py_XSETREF(self->keep, Py_NewRef(keep));
    return 0;
}

/* An export of the instance, of the wanted kind, into `item`; 0 when there is none. */
static int
find_export(void *ctx, const void *instance, const char *name, uint8_t kind, uint8_t *item)
{
    memset(item, 0, ITEM_BYTES);
    if (!ws.export_get(ctx, instance, name, strlen(name), item))
        return 0;
    return item[0] == kind;
}

/* The guest's part of a call: instantiate, place the request, call, find the result.
   Runs without the GIL. Sets *result and *result_len (in guest memory) on ONESHOT_OK. */
static int
oneshot_guest(OneShotObject *self, void *ctx, const Py_buffer *request, uint8_t **result,
              uint32_t *result_len)
{
    uint64_t instance[4] = {0}; /* wasmtime_instance_t: 16 bytes, checked at init */
    void *trap = NULL;
    void *error = ws.pre_instantiate(self->pre, ctx, instance, &trap);
    if (error != NULL || trap != NULL)
        goto failed;
    uint64_t memory_item[ITEM_BYTES / 8], alloc_item[ITEM_BYTES / 8], handler_item[ITEM_BYTES / 8];
    if (!find_export(ctx, instance, "memory", ws.kind_memory, (uint8_t *)memory_item) ||
        !find_export(ctx, instance, self->alloc, ws.kind_func, (uint8_t *)alloc_item) ||
        !find_export(ctx, instance, self->handler, ws.kind_func, (uint8_t *)handler_item))
        return ONESHOT_BROKEN;
    const void *memory = (uint8_t *)memory_item + ws.extern_of;

    /* One allocation: the request, then the 8-byte return area, aligned to 8. */
    uint64_t placed = ((uint64_t)request->len + 7) & ~(uint64_t)7;
    uint64_t total = placed + 8;
    if (total > 0x7fffffff)
        return ONESHOT_BROKEN;
    val_raw vals[2];
    vals[0].i64 = 0;
    vals[1].i64 = 0;
    vals[0].i32 = (int32_t)total;
    vals[1].i32 = 8;
    error = call_unchecked(ctx, (uint8_t *)alloc_item + ws.extern_of, vals, 2, &trap);
    if (error != NULL || trap != NULL)
        goto failed;
    uint64_t at = (uint32_t)vals[0].i32;
    uint8_t *base = ws.memory_data(ctx, memory);
    uint64_t size = memory_data_size(ctx, memory);
    if (at == 0 || at + total > size)
        return ONESHOT_TRAP; /* out of memory: the caller's own path says so */
    memcpy(base + at, request->buf, (size_t)request->len);
    memset(base + at + placed, 0, 8);

    vals[0].i64 = 0;
    vals[1].i64 = 0;
    vals[0].i32 = (int32_t)(uint32_t)(at + placed); /* retptr first */
    vals[1].i32 = (int32_t)(uint32_t)at;
    error = call_unchecked(ctx, (uint8_t *)handler_item + ws.extern_of, vals, 2, &trap);
    if (error != NULL || trap != NULL)
        goto failed;
    base = ws.memory_data(ctx, memory); /* the call may have grown (moved) the memory */
    size = memory_data_size(ctx, memory);
    uint32_t words[2];
    memcpy(words, base + at + placed, 8);
    if ((uint64_t)words[0] + words[1] > size)
        return ONESHOT_BROKEN;
    *result = base + words[0];
    *result_len = words[1];
    return ONESHOT_OK;

failed:
    if (error != NULL)
        ws.error_delete(error);
    if (trap != NULL)
        ws.trap_delete(trap);
    return ONESHOT_TRAP;
}

/* A call under way: the store, and the handler's result in guest memory once it ran. */
typedef struct {
    OneShotCall call;
    void *store;
    uint8_t *result;
    uint32_t result_len;
} OneShotRun;

/* Runs the handler on `request` in a fresh store, with the GIL released; leaves the store
   alive (the result lies in its memory) for oneshot_finish(). Returns the code. */
static int
oneshot_start(OneShotObject *self, const uint8_t *request, size_t len, double deadline,
              OneShotRun *run)
{
    Py_buffer view = {.buf = (void *)request, .len = (Py_ssize_t)len};
    int code;
    run->call.deadline = deadline;
    run->call.timed_out = 0;
    run->result = NULL;
    run->result_len = 0;
    Py_BEGIN_ALLOW_THREADS
    run->store = ws.store_new(self->engine, NULL, NULL);
    void *ctx = ws.store_context(run->store);
    ws.store_limiter(run->store, self->caps[0], self->caps[1], self->caps[2], self->caps[3],
                     self->caps[4]);
    if (self->epoch) {
        ws.set_deadline(ctx, 1);
        ws.set_deadline_callback(run->store, oneshot_deadline, &run->call, NULL);
    }
    /* The ticker's tick after the deadline may have come before this store existed:
       then no tick would stop the guest, so a deadline already passed ends the call here. */
    if (self->epoch && monotonic_now() >= deadline) {
        run->call.timed_out = 1;
        code = ONESHOT_TRAP;
    }
    else
        code = oneshot_guest(self, ctx, &view, &run->result, &run->result_len);
    Py_END_ALLOW_THREADS
    if (code != ONESHOT_OK && run->call.timed_out)
        code = ONESHOT_TIMEOUT;
    return code;
}

/* Whether the result is larger than the caller takes: it is then neither copied out nor
   decoded (a guest could otherwise make the host build a list of its whole memory). */
static int
over_cap(const OneShotObject *self, const OneShotRun *run)
{
    return self->max_result >= 0 && (long long)run->result_len > self->max_result;
}

static void
oneshot_finish(OneShotRun *run)
{
    Py_BEGIN_ALLOW_THREADS
    ws.store_delete(run->store);
    Py_END_ALLOW_THREADS
}

static PyObject *
oneshot_run(OneShotObject *self, PyObject *args)
{
    Py_buffer request;
    double deadline;
    if (!PyArg_ParseTuple(args, "y*d", &request, &deadline))
        return NULL;
    OneShotRun run;
    int code = oneshot_start(self, request.buf, (size_t)request.len, deadline, &run);
    PyBuffer_Release(&request);
    if (code == ONESHOT_OK && over_cap(self, &run))
        code = ONESHOT_TOO_LARGE;
    PyObject *answer = code == ONESHOT_OK
        ? PyBytes_FromStringAndSize((const char *)run.result, (Py_ssize_t)run.result_len)
        : PyLong_FromLong(code);
    oneshot_finish(&run);
    return answer;
}

/* What OneShot.call() returns besides run()'s codes: the argument is not one the
   compiled codec encodes, or the result is not one it decodes (the caller's Python
   codecs take over either way). */
enum { ONESHOT_UNENCODED = 4, ONESHOT_UNDECODED = 5 };

static PyObject *
oneshot_call(OneShotObject *self, PyObject *args)
{
    CodecObject *arg_codec, *result_codec;
    PyObject *value;
    double deadline;
    int fields;
    if (!PyArg_ParseTuple(args, "O!O!Odp", &CodecType, &arg_codec, &CodecType, &result_codec,
                          &value, &deadline, &fields) ||
        !codec_ready(arg_codec) || !codec_ready(result_codec))
        return NULL;
    Encoded request;
    int encoded = codec_encode(arg_codec, value, fields, &request);
    if (encoded < 0)
        return NULL;
    if (encoded == 0)
        return PyLong_FromLong(ONESHOT_UNENCODED);
    OneShotRun run;
    int code = oneshot_start(self, request.data, request.len, deadline, &run);
    PyMem_Free(request.data);
    if (code == ONESHOT_OK && over_cap(self, &run))
        code = ONESHOT_TOO_LARGE;
    PyObject *answer;
    if (code == ONESHOT_OK) {
        /* Read straight from guest memory: nothing runs in the store until it is deleted. */
        answer = codec_decode(result_codec, run.result, run.result_len);
        if (answer == NULL && !PyErr_Occurred())
            answer = PyLong_FromLong(ONESHOT_UNDECODED);
    }
    else
        answer = PyLong_FromLong(code);
    oneshot_finish(&run);
    return answer;
}

static PyMethodDef oneshot_methods[] = {
    {"run", (PyCFunction)oneshot_run, METH_VARARGS,
     "run(request: bytes, deadline: float) -> bytes | int: the handler's encoded result, or "
     "1 (it trapped), 2 (past the deadline, a time.monotonic() value), 3 (the module broke "
     "the ABI: an export missing, a result outside memory) or 6 (a result over max_result "
     "bytes)."},
    {"call", (PyCFunction)oneshot_call, METH_VARARGS,
     "call(arg_codec, result_codec, value, deadline, fields) -> result | int: run() with the "
     "argument encoded and the result decoded by the compiled codecs, or run()'s codes, "
     "4 (the codec does not encode this argument) or 5 (it cannot decode the result). "
     "fields: value is a tuple of the argument record's fields."},
    {NULL},
};

static PyTypeObject OneShotType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wasmbridge.runtime._native.OneShot",
    .tp_basicsize = sizeof(OneShotObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One handler of a pre-linked module, each call in a fresh store (serve/oneshot.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)oneshot_init,
    .tp_dealloc = (destructor)oneshot_dealloc,
    .tp_methods = oneshot_methods,
};

static PyObject *
native_init_oneshot(PyObject *Py_UNUSED(module), PyObject *args)
{
    unsigned long long a[12];
    unsigned long long instance_size, extern_size, extern_of;
    unsigned char kind_func, kind_memory;
    if (!PyArg_ParseTuple(args, "(KKKKKKKKKKKK)KKKbb", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5],
                          &a[6], &a[7], &a[8], &a[9], &a[10], &a[11], &instance_size,
                          &extern_size, &extern_of, &kind_func, &kind_memory))
        return NULL;
    for (int i = 0; i < 12; i++) {
        if (!a[i]) {
            PyErr_SetString(PyExc_ValueError, "a wasmtime function address is 0");
            return NULL;
        }
    }
    if (instance_size > 32 || extern_size > ITEM_BYTES || extern_of >= extern_size) {
        PyErr_SetString(PyExc_ValueError, "unexpected wasmtime struct layouts");
        return NULL;
    }
    if (call_unchecked == NULL || memory_data_size == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "call init() first");
        return NULL;
    }
    ws.store_new = (store_new_fn)(uintptr_t)a[0];
    ws.store_context = (store_context_fn)(uintptr_t)a[1];
    ws.store_delete = (store_delete_fn)(uintptr_t)a[2];
    ws.store_limiter = (store_limiter_fn)(uintptr_t)a[3];
    ws.set_deadline = (set_deadline_fn)(uintptr_t)a[4];
    ws.set_deadline_callback = (set_deadline_callback_fn)(uintptr_t)a[5];
    ws.pre_instantiate = (pre_instantiate_fn)(uintptr_t)a[6];
    ws.export_get = (export_get_fn)(uintptr_t)a[7];
    ws.memory_data = (memory_data_fn)(uintptr_t)a[8];
    ws.error_delete = (delete_fn)(uintptr_t)a[9];
    ws.trap_delete = (delete_fn)(uintptr_t)a[10];
    ws.error_new = (error_new_fn)(uintptr_t)a[11];
    ws.instance_size = (size_t)instance_size;
    ws.extern_size = (size_t)extern_size;
    ws.extern_of = (size_t)extern_of;
    ws.kind_func = kind_func;
    ws.kind_memory = kind_memory;
    ws.ready = 1;
    Py_RETURN_NONE;
}

/* -- module ------------------------------------------------------------------------------- */

static PyObject *
native_init(PyObject *Py_UNUSED(module), PyObject *args)
{
    unsigned long long call, size;
    int major;
    if (!PyArg_ParseTuple(args, "iKK", &major, &call, &size))
        return NULL;
    if (major != WASMTIME_MAJOR) {
        PyErr_Format(PyExc_RuntimeError, "built for wasmtime %d.x, not %d.x", WASMTIME_MAJOR,
                     major);
        return NULL;
    }
    if (!call || !size) {
        PyErr_SetString(PyExc_ValueError, "a wasmtime function address is 0");
        return NULL;
    }
    call_unchecked = (call_unchecked_fn)(uintptr_t)call;
    memory_data_size = (memory_size_fn)(uintptr_t)size;
    Py_RETURN_NONE;
}

static PyObject *
native_set_release_gil(PyObject *Py_UNUSED(module), PyObject *arg)
{
    int flag = PyObject_IsTrue(arg);
    if (flag < 0)
        return NULL;
    int previous = release_gil;
    release_gil = flag;
    return PyBool_FromLong(previous);
}

static PyMethodDef native_methods[] = {
    {"init", native_init, METH_VARARGS,
     "init(wasmtime_major, func_call_unchecked, memory_data_size): the addresses of wasmtime's "
     "C functions, from the library already loaded."},
    {"init_oneshot", native_init_oneshot, METH_VARARGS,
     "init_oneshot(addresses, instance_size, extern_size, extern_of, kind_func, kind_memory): "
     "what OneShot calls wasmtime through, and the layouts it relies on."},
    {"set_release_gil", native_set_release_gil, METH_O,
     "Whether calls release the GIL while the guest runs (default true); returns the old value."},
    {NULL},
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "wasmbridge.runtime._native",
    .m_doc = "The compiled call path of wasmbridge (optional; see runtime/bridge/native.py).",
    .m_size = -1,
    .m_methods = native_methods,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    if (PyType_Ready(&ArenaType) < 0 || PyType_Ready(&CallerType) < 0 ||
        PyType_Ready(&OneShotType) < 0 || PyType_Ready(&CodecType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&native_module);
    if (module == NULL)
        return NULL;
    if (PyModule_AddObjectRef(module, "Arena", (PyObject *)&ArenaType) < 0 ||
        PyModule_AddObjectRef(module, "Caller", (PyObject *)&CallerType) < 0 ||
        PyModule_AddObjectRef(module, "OneShot", (PyObject *)&OneShotType) < 0 ||
        PyModule_AddObjectRef(module, "Codec", (PyObject *)&CodecType) < 0 ||
        PyModule_AddIntConstant(module, "WASMTIME_MAJOR", WASMTIME_MAJOR) < 0 ||
        PyModule_AddIntConstant(module, "MAX_SLOTS", MAX_SLOTS) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
