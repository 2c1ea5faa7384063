//! `#[wasmbridge::export]` on an inherent `impl X { ... }` block: `X`
//! becomes a class, an opaque object the guest keeps and hosts hold by
//! handle (docs/abi-compound.md). The block stays as written; beside it, in
//! one unnamed `const` block:
//!
//! * the class record, and per `pub fn` a method record and an `extern "C"`
//!   wrapper exported as `X.member` (return area pointer, then the handle of
//!   `&self`/`&mut self`/`self`, then the parameters);
//! * the destructor `X#drop(handle)`, which runs `Drop` and frees the box;
//! * the SDK traits that pass `X` by value (the handle moves) and by
//!   reference (`&X`, `&mut X`).
//!
//! For `pub fn incr(&mut self, by: u32) -> u32` the wrapper reads:
//!
//! ```text
//! #[cfg_attr(target_arch = "wasm32", export_name = "Counter.incr")]
//! extern "C" fn __wb_method_incr(__wb_self: u32, __wb_arg_by: u32) -> u32 {
//!     ::wasmbridge::__rt::enter();
//!     unsafe { <Counter>::incr(::wasmbridge::__rt::class_mut::<Counter>(__wb_self), __wb_arg_by) }
//! }
//! ```

use proc_macro::{Group, TokenStream, TokenTree};

use crate::data::no_args_on;
use crate::emit::{quote, RT};
use crate::error::Error;
use crate::export::{type_checks, wrapper, Wrapper};
use crate::items::{cfgs_of, doc_of, impl_item, visibility};
use crate::parse::{parse_fn, tokens_text, Cursor, FnItem, Mode, Receiver};
use crate::record::{
    class_record, method_record, section_item, Signature, RECEIVER_CONSTRUCTOR, RECEIVER_MUT,
    RECEIVER_OWNED, RECEIVER_REF, RECEIVER_STATIC,
};
use crate::types::{fn_types, named, FnTypes, Named, Ty};

type Generated = std::result::Result<TokenStream, Vec<Error>>;

pub fn class(attr: TokenStream, tokens: &[TokenTree]) -> Generated {
    no_args_on(attr, "an `impl` block").map_err(|e| vec![e])?;
    let imp = impl_item(tokens).map_err(|e| vec![e])?;
    let class = match named(&imp.self_ty) {
        Some(class) => class,
        None => {
            let message = format!(
                "`{}` cannot be a class: export an `impl` of a type of your crate, named without \
                 generic arguments (`impl Counter {{ ... }}`)",
                tokens_text(&imp.self_ty)
            );
            return Err(vec![Error::spanning(&imp.self_ty, message)]);
        }
    };
    let mut errors = Vec::new();
    let mut code = Vec::new();
    let mut checks = TokenStream::new();
    for item in &imp.items {
        if !is_pub_fn(item) {
            continue; // private methods, consts and types stay the guest's own
        }
        match method(&class, item) {
            Ok((text, check)) => {
                code.push(text);
                checks.extend(check);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let cfgs = cfgs_of(&imp.attrs);
    let record = class_record(&class.name, &doc_of(&imp.attrs));
    let text = format!(
        "{cfgs} const _: () = {{
            {impls}
            {drop}
            {section}
            {methods}
        }};",
        cfgs = cfgs,
        impls = class_impls(&class),
        drop = destructor(&class),
        section = section_item(&record, ""),
        methods = code.join("\n"),
    );
    let mut out: TokenStream =
        text.parse().expect("wasmbridge generated invalid code; please report");
    out.extend(checks);
    Ok(out)
}

/// `pub fn`, `pub const fn`, ... (plain `pub`: `pub(crate)` stays inside).
fn is_pub_fn(item: &[TokenTree]) -> bool {
    let mut c = Cursor::new(item);
    c.attrs();
    if visibility(&mut c).len() != 1 {
        return false;
    }
    let mut rest = c.rest().iter();
    rest.any(|t| matches!(t, TokenTree::Ident(i) if i.to_string() == "fn"))
}

/// One method: its wrapper and record, and the compile-time checks of its result.
fn method(
    class: &Named,
    item: &[TokenTree],
) -> std::result::Result<(String, TokenStream), Vec<Error>> {
    let mut f = parse_fn(item, Mode::Method).map_err(|e| {
        vec![e.extended(
            " (a `pub fn` that stays inside the guest goes in an `impl` block without \
             #[wasmbridge::export])",
        )]
    })?;
    for p in &mut f.params {
        p.ty = replace_self(&p.ty, &class.tokens);
    }
    f.ret = replace_self(&f.ret, &class.tokens);
    let FnTypes { params, result } = fn_types(&f, false)?;
    check_nested_class(class, &f, &params, &result)?;
    let member = f.plain_name();
    let receiver = receiver_byte(&f, &member, &result, class);
    let name = format!("{}.{}", class.name, member);
    let doc = f.doc();
    let sig = Signature { name: &name, doc: &doc, params: &params, result: &result };
    let record =
        method_record(&class.name, receiver, &member, &sig, f.name.span()).map_err(|e| vec![e])?;
    let ty = class.rust();
    let handle = |how: &str| Some(format!("{}::{}::<{}>(__wb_self)", RT, how, ty));
    let call = Wrapper {
        ident: format!("__wb_method_{}", member),
        callee: format!("<{}>::{}", ty, f.name),
        receiver: match f.receiver {
            Some(Receiver::Ref) => handle("class_ref"),
            Some(Receiver::Mut) => handle("class_mut"),
            Some(Receiver::Owned) => handle("class_take"),
            None => None,
        },
        checks: same_object_checks(class, f.receiver, &params),
        sig: &sig,
    };
    let cfgs = f.cfgs().to_string();
    let text = format!("{}\n{}", wrapper(&call, &cfgs), section_item(&record, &cfgs));
    Ok((text, type_checks(params.iter().map(|(_, t)| t).chain(Some(&result)), &cfgs)))
}

/// Panics when one object of this class is passed twice to a call that moves
/// or mutably borrows it (`c.merge(c)` would free the object `merge` is
/// using). Hosts refuse such calls; this keeps a host that does not from
/// corrupting the guest. Only this impl's class is known to be a class.
fn same_object_checks(
    class: &Named,
    receiver: Option<Receiver>,
    params: &[(String, Ty)],
) -> String {
    // (wasm parameter, whether the use is exclusive: by value or `&mut`)
    let mut uses: Vec<(String, bool)> = Vec::new();
    if let Some(r) = receiver {
        uses.push(("__wb_self".to_string(), r != Receiver::Ref));
    }
    for (name, ty) in params {
        let exclusive = match ty {
            Ty::Named(n) if n.name == class.name => true,
            Ty::Borrowed(n, mutable) if n.name == class.name => *mutable,
            _ => continue,
        };
        uses.push((format!("__wb_arg_{}", name), exclusive));
    }
    let mut checks = String::new();
    for (i, (a, a_exclusive)) in uses.iter().enumerate() {
        for (b, b_exclusive) in &uses[i + 1..] {
            if *a_exclusive || *b_exclusive {
                checks.push_str(&format!("if {} == {} {{ {}::same_object() }}", a, b, RT));
            }
        }
    }
    checks
}

fn receiver_byte(f: &FnItem, member: &str, result: &Ty, class: &Named) -> u8 {
    match f.receiver {
        Some(Receiver::Ref) => RECEIVER_REF,
        Some(Receiver::Mut) => RECEIVER_MUT,
        Some(Receiver::Owned) => RECEIVER_OWNED,
        None if member == "new" && matches!(result, Ty::Named(n) if n.name == class.name) => {
            RECEIVER_CONSTRUCTOR
        }
        None => RECEIVER_STATIC,
    }
}

/// A class crosses only on its own (hosts hold it by handle): not inside
/// `Option`, lists or tuples. Only this impl's own class is known to be one.
fn check_nested_class(
    class: &Named,
    f: &FnItem,
    params: &[(String, Ty)],
    result: &Ty,
) -> std::result::Result<(), Vec<Error>> {
    let mut errors = Vec::new();
    let typed = params.iter().map(|(_, t)| t).zip(f.params.iter().map(|p| &p.ty));
    for (ty, tokens) in typed.chain(std::iter::once((result, &f.ret))) {
        let mut found = Vec::new();
        ty.named(true, &mut found);
        if !found.iter().any(|(named, whole)| !whole && named.name == class.name) {
            continue;
        }
        if let Ty::Callback(_) = ty {
            let message = format!(
                "the class `{}` cannot cross in the callback `{}`: a callback takes and returns \
                 values (records, enums, lists, ...), never objects of a class; pass the values \
                 it needs",
                class.name,
                tokens_text(tokens)
            );
            errors.push(Error::spanning(tokens, message));
        } else {
            let message = format!(
                "the class `{}` crosses the bridge only on its own (hosts hold it by a handle), \
                 not inside `{}`: pass or return `{}` itself",
                class.name,
                tokens_text(tokens),
                class.name
            );
            errors.push(Error::spanning(tokens, message));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// `tokens` with every `Self` replaced by the class's type.
fn replace_self(tokens: &[TokenTree], with: &[TokenTree]) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for token in tokens {
        match token {
            TokenTree::Ident(i) if i.to_string() == "Self" => out.extend(with.iter().cloned()),
            TokenTree::Group(g) => {
                let inner = replace_self(&g.stream().into_iter().collect::<Vec<_>>(), with);
                let mut group = Group::new(g.delimiter(), inner.into_iter().collect());
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            other => out.push(other.clone()),
        }
    }
    out
}

/// The traits that pass a class object by value (its handle moves) and by
/// reference (borrowed in place for the call).
fn class_impls(class: &Named) -> String {
    format!(
        "impl {RT}::Exported for {ty} {{}}
        impl {RT}::FromParam for {ty} {{
            #[inline]
            unsafe fn from_param(raw: u32) -> Self {{
                {RT}::class_take(raw)
            }}
        }}
        impl {RT}::IntoRet for {ty} {{
            #[inline]
            unsafe fn into_ret(self, at: *mut u8) {{
                {RT}::ret_handle(self, at)
            }}
        }}
        impl {RT}::Lend for {ty} {{
            type Held = *mut {ty};
            #[inline]
            unsafe fn lend(raw: u32) -> Self::Held {{
                raw as usize as *mut {ty}
            }}
            #[inline]
            fn get(held: &Self::Held) -> &Self {{
                unsafe {{ &**held }}
            }}
            #[inline]
            fn get_mut(held: &mut Self::Held) -> &mut Self {{
                unsafe {{ &mut **held }}
            }}
        }}",
        RT = RT,
        ty = class.rust(),
    )
}

/// `Class#drop(handle)`: runs the object's `Drop` and frees it.
fn destructor(class: &Named) -> String {
    format!(
        "#[doc(hidden)]
        #[allow(non_snake_case, dead_code, clippy::all)]
        #[cfg_attr(target_arch = \"wasm32\", export_name = {name})]
        extern \"C\" fn __wb_drop(__wb_self: u32) {{
            {RT}::enter();
            unsafe {{ ::core::mem::drop({RT}::class_take::<{ty}>(__wb_self)) }}
        }}",
        name = quote(&format!("{}#drop", class.name)),
        RT = RT,
        ty = class.rust(),
    )
}
