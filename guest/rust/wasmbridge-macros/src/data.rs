//! `#[wasmbridge::export]` on a struct with named `pub` fields (a record,
//! crossing by value) and on a C-like enum (crossing as its case index):
//! the item stays as written; beside it come its type record and the SDK
//! traits that encode it (docs/abi-compound.md).
//!
//! For `pub struct Point { pub x: f64, pub y: f64 }` the impls read:
//!
//! ```text
//! const _: () = {
//!     impl ::wasmbridge::__rt::Canonical for Point {
//!         const SIZE: usize = layout(&[(<f64>::SIZE, <f64>::ALIGN), ...]).0;
//!         unsafe fn store(&self, buf, at) { store_field(&self.x, buf, at, &mut o); ... }
//!         unsafe fn load(base, at) -> Self { Self { x: load_field(base, at, &mut o), ... } }
//!     }
//!     impl FromParam for Point { ... decode the buffer at the address ... }
//!     impl IntoRet for Point { ... hand over the encoded buffer ... }
//!     impl Lend for Point { ... }  impl ErrorValue for Point {}
//! };
//! ```

use proc_macro::{TokenStream, TokenTree};

use crate::emit::RT;
use crate::error::{Error, Result};
use crate::export::assert_at;
use crate::items::{
    cases, cfgs_of, data_item, discriminant_value, doc_of, fields, CaseItem, DataItem,
};
use crate::parse::tokens_text;
use crate::record::{enum_type, record_type, section_item};
use crate::types::field_type;

type Generated = std::result::Result<TokenStream, Vec<Error>>;

/// A record: a struct whose fields are all `pub`.
pub fn record(attr: TokenStream, tokens: &[TokenTree]) -> Generated {
    no_args(attr, "a struct")?;
    let item = data_item(tokens, "struct").map_err(|e| vec![e])?;
    let name = item.plain_name();
    let fields = fields(&item.body).map_err(|e| vec![e])?;
    if fields.is_empty() {
        let message = format!(
            "`{0}` has no fields, and a record needs at least one; to export methods, put \
             #[wasmbridge::export] on an `impl {0}` block",
            name
        );
        return Err(vec![Error::new(item.name.span(), message)]);
    }
    if let Some(private) = fields.iter().find(|f| !f.public) {
        let message = format!(
            "field `{field}` of `{name}` is not `pub`: make every field pub to pass `{name}` by \
             value as a record, or export an `impl {name}` block to make it a class",
            field = private.name,
            name = name
        );
        return Err(vec![Error::new(private.ident.span(), message)]);
    }
    let mut errors = Vec::new();
    let mut typed = Vec::new();
    for f in &fields {
        match field_type(&f.ty) {
            Ok(ty) => typed.push((f.name.clone(), ty)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let doc = doc_of(&item.attrs);
    let type_record = record_type(&name, &doc, &typed, item.name.span()).map_err(|e| vec![e])?;
    let rust_types: Vec<String> =
        fields.iter().map(|f| f.ty.iter().cloned().collect::<TokenStream>().to_string()).collect();
    let idents: Vec<String> = fields.iter().map(|f| f.ident.to_string()).collect();
    let code = record_impls(&item, &idents, &rust_types);
    let mut out = emit(&item, &code, &type_record);
    let cfgs = cfgs_of(&item.attrs);
    for (_, ty) in &typed {
        let mut found = Vec::new();
        ty.named(false, &mut found);
        for (named, _) in found {
            out.extend(assert_at("assert_canonical", &named.tokens, &cfgs));
        }
    }
    Ok(out)
}

fn record_impls(item: &DataItem, fields: &[String], types: &[String]) -> String {
    let layout: Vec<String> = types
        .iter()
        .map(|t| {
            format!(
                "(<{t} as {RT}::Canonical>::SIZE, <{t} as {RT}::Canonical>::ALIGN)",
                t = t,
                RT = RT
            )
        })
        .collect();
    let stores: Vec<String> = fields
        .iter()
        .map(|f| format!("{}::store_field(&self.{}, buf, at, &mut o);", RT, f))
        .collect();
    let loads: Vec<String> =
        fields.iter().map(|f| format!("{}: {}::load_field(base, at, &mut o),", f, RT)).collect();
    format!(
        "impl {RT}::Canonical for {name} {{
            const SIZE: usize = {RT}::layout(&[{layout}]).0;
            const ALIGN: usize = {RT}::layout(&[{layout}]).1;
            #[inline]
            unsafe fn store(&self, buf: &mut {RT}::Vec<u8>, at: usize) {{
                let mut o = 0usize;
                {stores}
            }}
            #[inline]
            unsafe fn load(base: *const u8, at: usize) -> Self {{
                let mut o = 0usize;
                Self {{ {loads} }}
            }}
        }}
        impl {RT}::FromParam for {name} {{
            #[inline]
            unsafe fn from_param(raw: u32) -> Self {{
                {RT}::decode(raw as usize as *const u8)
            }}
        }}
        impl {RT}::IntoRet for {name} {{
            #[inline]
            unsafe fn into_ret(self, at: *mut u8) {{
                {RT}::ret_encoded(&self, at)
            }}
        }}",
        RT = RT,
        name = item.name,
        layout = layout.join(", "),
        stores = stores.join("\n"),
        loads = loads.join(" "),
    )
}

/// A C-like enum: cases without data, discriminants written as integers.
pub fn enumeration(attr: TokenStream, tokens: &[TokenTree]) -> Generated {
    no_args(attr, "an enum")?;
    let item = data_item(tokens, "enum").map_err(|e| vec![e])?;
    let name = item.plain_name();
    let cases = cases(&item.body, &name).map_err(|e| vec![e])?;
    if cases.is_empty() {
        let message = format!("the enum `{}` has no cases: there is no value to pass", name);
        return Err(vec![Error::new(item.name.span(), message)]);
    }
    let values = discriminants(&cases)?;
    let doc = doc_of(&item.attrs);
    let named: Vec<(String, i64)> = cases.iter().map(|c| c.name.clone()).zip(values).collect();
    let type_record = enum_type(&name, &doc, &named);
    let code = enum_impls(&item, &cases);
    Ok(emit(&item, &code, &type_record))
}

/// Each case's discriminant: explicit, or one more than the case before.
fn discriminants(cases: &[CaseItem]) -> std::result::Result<Vec<i64>, Vec<Error>> {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    let mut next: i128 = 0;
    for case in cases {
        let value = match &case.discriminant {
            None => Some(next),
            Some(tokens) => discriminant_value(tokens),
        };
        match value.map(i64::try_from) {
            Some(Ok(v)) => {
                values.push(v);
                next = i128::from(v) + 1;
            }
            Some(Err(_)) => errors.push(Error::new(
                case.ident.span(),
                format!(
                    "the discriminant of `{}` does not fit an i64, which the interface records",
                    case.name
                ),
            )),
            None => {
                let tokens = case.discriminant.as_deref().unwrap_or(&[]);
                errors.push(Error::spanning(
                    tokens,
                    format!(
                        "write the discriminant of `{}` as an integer literal (`= 5`, `= -3`), \
                         not `{}`: the interface records its value",
                        case.name,
                        tokens_text(tokens)
                    ),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

fn enum_impls(item: &DataItem, cases: &[CaseItem]) -> String {
    let name = &item.name;
    let to_index: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}::{} => {}u32,", name, c.ident, i))
        .collect();
    let from_index: Vec<String> =
        cases.iter().enumerate().map(|(i, c)| format!("{} => {}::{},", i, name, c.ident)).collect();
    format!(
        "fn __wb_index(value: &{name}) -> u32 {{
            match value {{ {to_index} }}
        }}
        fn __wb_case(index: u32) -> {name} {{
            match index {{ {from_index} _ => {RT}::bad_case() }}
        }}
        impl {RT}::Canonical for {name} {{
            const SIZE: usize = {RT}::index_size({count});
            const ALIGN: usize = {RT}::index_size({count});
            #[inline]
            unsafe fn store(&self, buf: &mut {RT}::Vec<u8>, at: usize) {{
                {RT}::store_index(buf, at, Self::SIZE, __wb_index(self))
            }}
            #[inline]
            unsafe fn load(base: *const u8, at: usize) -> Self {{
                __wb_case({RT}::load_index(base, at, Self::SIZE))
            }}
        }}
        impl {RT}::FromParam for {name} {{
            #[inline]
            unsafe fn from_param(raw: u32) -> Self {{
                __wb_case(raw)
            }}
        }}
        impl {RT}::IntoRet for {name} {{
            #[inline]
            unsafe fn into_ret(self, at: *mut u8) {{
                {RT}::ret_index(__wb_index(&self), at)
            }}
        }}",
        RT = RT,
        name = name,
        count = cases.len(),
        to_index = to_index.join(" "),
        from_index = from_index.join(" "),
    )
}

/// The impls every record and enum shares, the specific ones, and the type
/// record, in one unnamed `const` block under the item's `#[cfg]`s.
fn emit(item: &DataItem, impls: &str, type_record: &[u8]) -> TokenStream {
    let cfgs = cfgs_of(&item.attrs);
    let code = format!(
        "{cfgs} const _: () = {{
            impl {RT}::Exported for {name} {{}}
            {impls}
            impl {RT}::Lend for {name} {{
                type Held = Self;
                #[inline]
                unsafe fn lend(raw: u32) -> Self {{
                    {RT}::FromParam::from_param(raw)
                }}
                #[inline]
                fn get(held: &Self) -> &Self {{
                    held
                }}
                #[inline]
                fn get_mut(held: &mut Self) -> &mut Self {{
                    held
                }}
            }}
            impl {RT}::ErrorValue for {name} {{}}
            {section}
        }};",
        cfgs = cfgs,
        RT = RT,
        name = item.name,
        impls = impls,
        section = section_item(type_record, ""),
    );
    code.parse().expect("wasmbridge generated invalid code; please report")
}

/// Records and enums are known by their Rust names: no arguments.
fn no_args(attr: TokenStream, what: &str) -> std::result::Result<(), Vec<Error>> {
    let tokens: Vec<TokenTree> = attr.into_iter().collect();
    if tokens.is_empty() {
        return Ok(());
    }
    let message = format!(
        "#[wasmbridge::export] takes no arguments on {}: the interface knows it by its Rust name",
        what
    );
    Err(vec![Error::spanning(&tokens, message)])
}

/// Used by `class` too.
pub fn no_args_on(attr: TokenStream, what: &str) -> Result<()> {
    no_args(attr, what).map_err(|mut errors| errors.remove(0))
}
