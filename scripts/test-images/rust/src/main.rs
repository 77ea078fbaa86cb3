fn main() {
    println!("moat test app");
}
