//! Running the engine a program was given: [`Program::set_engine`]
//! generates what it needs, and [`Program::assign`] dispatches on it, the
//! one place where the choice between the evaluators is read.

use crate::decode::Profile;
use crate::eval::engine::Engine;
use crate::eval::interpret::StreamSet;
use crate::eval::program::Program;

impl Program {
    /// Makes `engine` the one [`Program::assign`] runs, and generates the
    /// native code it needs. Without native code (feature `jit` off, more
    /// rules or streams than native code takes, a machine Cranelift does
    /// not support) a native engine runs the specialised interpreter, with
    /// the same results, so that is no error.
    pub fn set_engine(&mut self, engine: Engine) {
        self.engine = engine;
        #[cfg(feature = "jit")]
        {
            use crate::eval::native::CHUNK;
            self.native = crate::eval::native::Native::default();
            let _ = match engine {
                Engine::Native => self.generate_native(),
                Engine::NativeInPart => self.generate_native_as(false, CHUNK),
                Engine::NativeChunked => self.generate_native_as(true, 1),
                Engine::Interpreted | Engine::Plain => Ok(()),
            };
        }
    }

    /// The streams a profile receives, by the program's engine: assigned by
    /// some rule whose condition is true, and suppressed by none whose
    /// condition is true or unknown.
    pub fn assign(&self, profile: &Profile) -> StreamSet {
        match self.engine {
            Engine::Plain => self.assign_plain(profile),
            Engine::Interpreted => self.assign_interpreted(profile),
            Engine::Native | Engine::NativeInPart | Engine::NativeChunked => {
                #[cfg(feature = "jit")]
                if let Some(streams) = self.native.assign(self, profile) {
                    return streams;
                }
                self.assign_interpreted(profile)
            }
        }
    }
}
